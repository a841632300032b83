from sanic import Blueprint

storage = Blueprint('storage', url_prefix='/storage')
