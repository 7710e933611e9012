"""The till's durable journal (SQLite WAL through Peewee): the only module that talks SQL."""
