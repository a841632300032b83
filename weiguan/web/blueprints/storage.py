from sanic import Blueprint, Request

from ...entities import requests
from ...entities.views import file_view, files_view
from ...services.storage import Upload
from ..envelope import ok
from ..guards import login_required
from ..idempotency import idempotent
from ..openapi import documented
from ..params import multipart, query

storage = Blueprint('storage', url_prefix='/storage')

upload_form = requests.UploadForm()
file_id_query = requests.FileIdQuery()


def _service(request: Request):
    return request.app.ctx.services.storage_service


@storage.post('/upload', ctx_large_body=True)  # REQUEST_MAX_SIZE: web/body_limits.py
@documented('Upload 1 to UPLOAD_FILE_MAX_NUMBER files.', form=upload_form,
            data={'files': files_view}, errors=(413, 429))
@login_required
@idempotent
async def upload(request: Request):
    """Multipart: fields region, bucket, path; the files under the name `files`. The
    body's size was bounded by REQUEST_MAX_SIZE before it was read (413)."""
    fields, files = multipart(request)
    form = upload_form.load({key: values[0] for key, values in fields.items()})
    uploads = [Upload(name=file.name, type=file.type, body=file.body)
               for file in files.getlist('files', [])]
    stored = await _service(request).upload(request.ctx.user_id, uploads, **form)
    return ok(files=files_view.dump(stored))


@storage.get('/file/info')
@documented('A file.', query=file_id_query, data={'file': file_view}, errors=(404,))
@login_required
async def file_info(request: Request):
    data = query(request, file_id_query)
    return ok(file=file_view.dump(await _service(request).info(data['id'])))
