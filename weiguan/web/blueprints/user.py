from sanic import Blueprint

user = Blueprint('user', url_prefix='/user')
