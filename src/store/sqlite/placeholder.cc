// SQLite backend: see sqlite_store.h
