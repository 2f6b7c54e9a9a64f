from django.apps import AppConfig
from django.db.backends.signals import connection_created

STATEMENTS = [0]


def _count(execute, sql, params, many, context):
    STATEMENTS[0] += 1
    return execute(sql, params, many, context)


def _counting(sender, connection, **kwargs):
    connection.execute_wrappers.append(_count)


class StockDjangoConfig(AppConfig):
    name = "stock_django"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        connection_created.connect(_counting)
