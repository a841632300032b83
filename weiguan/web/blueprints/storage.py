from dependency_injector.wiring import Provide
from sanic import Blueprint, Request

from ...container import Container
from ...entities import inputs
from ...entities.views import file_view, files_view
from ...services.storage import StorageService, Upload
from ..envelope import ok
from ..guards import login_required
from ..idempotency import idempotent
from ..openapi import documented

storage = Blueprint('storage', url_prefix='/storage')
# Its service, set by container.wire() at start (web/app.py).
storage_service: StorageService = Provide[Container.storage_service]

upload_form = inputs.UploadForm()
file_id_query = inputs.FileIdQuery()


@storage.post('/upload', ctx_large_body=True)  # REQUEST_MAX_SIZE: web/body_limits.py
@login_required
@idempotent
@documented('Upload 1 to UPLOAD_FILE_MAX_NUMBER files.', form=upload_form,
            data={'files': files_view}, errors=(413, 429))
async def upload(request: Request, data: dict, files):
    """Multipart: fields region, bucket, path; the files under the name `files`. The
    body's size was bounded by REQUEST_MAX_SIZE before it was read (413); it is
    read as it arrives (web/multipart.py), by the declaration."""
    uploads = [Upload(name=file.name, type=file.type, body=file.body)
               for file in files.getlist('files', [])]
    stored = await storage_service.upload(request.ctx.user_id, uploads, **data)
    return ok(files=files_view.dump(stored))


@storage.get('/file/info')
@login_required
@documented('A file.', query=file_id_query, data={'file': file_view}, errors=(404,))
async def file_info(request: Request, data: dict):
    return ok(file=file_view.dump(await storage_service.info(data['id'])))
