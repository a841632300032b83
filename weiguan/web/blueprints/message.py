from sanic import Blueprint

message = Blueprint('message', url_prefix='/message')
