from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Bytea
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-23T23:47:13:507978"
VERSION = "1.38.0"
DESCRIPTION = "thumbnails of patrol photos"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="move_in_decoration", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Attachment",
        tablename="move_in_decoration_attachment",
        column_name="thumbnail",
        db_column_name="thumbnail",
        column_class_name="Bytea",
        column_class=Bytea,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
