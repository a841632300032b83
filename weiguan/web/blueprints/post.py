from sanic import Blueprint

post = Blueprint('post', url_prefix='/post')
