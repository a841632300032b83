"""The baseline: a bare Sanic JSON hello-world, the framework's own ceiling here.

    python bench/baseline_app.py PORT
"""
import sys

from sanic import Sanic, json

app = Sanic('baseline')


@app.get('/')
async def hello(request):
    return json({'code': 'ok', 'message': '', 'data': {'hello': 'world'}})


if __name__ == '__main__':
    app.run(host='127.0.0.1', port=int(sys.argv[1]), access_log=False,
            single_process=True)
