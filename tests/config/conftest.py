from tests.support.served import serve, served_database  # noqa: F401
