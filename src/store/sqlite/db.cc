#include "src/store/sqlite/db.h"

namespace kvol::store::sqlite {

Db::~Db() {
  if (db_) sqlite3_close_v2(db_);
}

Status Db::Error(const std::string& what) const {
  return Internal("sqlite: " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "no database"));
}

Status Db::Open(const std::string& path, bool create, bool synchronousFull) {
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    Status s = Error("open " + path);
    sqlite3_close_v2(db_);
    db_ = nullptr;
    return s;
  }
  sqlite3_busy_timeout(db_, 10000);
  KVOL_RETURN_IF_ERROR(Exec("PRAGMA journal_mode=WAL"));
  KVOL_RETURN_IF_ERROR(
      Exec(synchronousFull ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL"));
  return Status::Ok();
}

Status Db::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    sqlite3_free(err);
    return Internal(std::string("sqlite: ") + sql + ": " + m);
  }
  return Status::Ok();
}

Stmt::~Stmt() {
  if (s_) sqlite3_finalize(s_);
}

Status Stmt::Prepare(const Db& db, const char* sql) {
  if (sqlite3_prepare_v3(db.get(), sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK)
    return db.Error(std::string("prepare ") + sql);
  return Status::Ok();
}

}  // namespace kvol::store::sqlite
