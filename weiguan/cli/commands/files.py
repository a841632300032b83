from ..progress import Progress


class FilesCommand:
    """python -m weiguan.cli.app files <command>: the uploads on disk"""

    def __init__(self, file_pruner):
        self.pruner = file_pruner

    async def prune(self, dry_run: bool = False, min_age: int = 3600) -> str:
        """Remove the uploads no file row points to (older than --min_age seconds,
        default 3600: an upload in progress writes its files first) and the cached
        thumbnails of files that are gone. --dry-run: only list them."""
        progress = Progress('files prune', unit='file')
        try:
            report = await self.pruner.prune(dry_run=bool(dry_run), min_age=int(min_age),
                                             progress=progress)
        finally:
            progress.close()
        verb = 'Would remove' if report.dry_run else 'Removed'
        lines = [f'{verb} upload {location}' for location in report.uploads]
        lines += [f'{verb} thumbnail {copy}' for copy in report.thumbs]
        lines.append(f'{verb} {len(report.uploads)} uploads and {len(report.thumbs)} '
                     f'thumbnails ({report.bytes} bytes).')
        return '\n'.join(lines)
