// watch: a chunked stream of JSON lines fed by a Store watch.
#include <atomic>
#include <mutex>

#include "kvol/apiserver/errors.h"
#include "rest.h"

namespace kvol::apiserver {

namespace {

constexpr int kDefaultWatchTimeoutSeconds = 1800;

const char* TypeName(store::WatchEvent::Type t) {
  switch (t) {
    case store::WatchEvent::Type::kAdded:
      return "ADDED";
    case store::WatchEvent::Type::kModified:
      return "MODIFIED";
    case store::WatchEvent::Type::kDeleted:
      return "DELETED";
  }
  return "ERROR";
}

class StoreWatchStream : public WatchStream {
 public:
  StoreWatchStream(store::Store& s, const api::ResourceInfo& info, std::string prefix,
                   std::function<bool(const json&)> filter, int64_t fromRv, bool table,
                   IncludeObject include, std::function<int64_t()> now)
      : store_(s),
        info_(info),
        prefix_(std::move(prefix)),
        filter_(std::move(filter)),
        fromRv_(fromRv),
        table_(table),
        include_(include),
        now_(std::move(now)) {}

  ~StoreWatchStream() override { handle_.reset(); }

  Status Start(std::function<void(std::string)> send, std::function<void()> end) override {
    int64_t after = fromRv_;
    if (after <= 0) {
      // resourceVersion absent or "0": the current state first, as ADDED events.
      store::ListOptions lo;
      lo.prefix = prefix_;
      lo.filter = filter_;
      auto l = store_.List(lo);
      if (!l.ok()) return l.status();
      for (const auto& o : l->items) send(Line("ADDED", Present(info_, o)));
      after = l->revision;
    }
    last_.store(after);
    if (after < store_.CompactedRevision()) {
      send(Expired(after));
      end();
      return Status::Ok();
    }
    store::WatchOptions wo;
    wo.prefix = prefix_;
    wo.afterRevision = after;
    wo.filter = filter_;
    auto h = store_.Watch(
        wo,
        [this, send](const store::WatchEvent& ev) {
          last_.store(ev.revision);
          send(Line(TypeName(ev.type), Present(info_, ev.object)));
        },
        [send, end](const Status& st) {
          if (!st.ok()) {
            send(json({{"type", "ERROR"},
                       {"object",
                        StatusObject(HttpCode(st.code()), Reason(st.code()), st.message())}})
                     .dump() +
                 "\n");
          }
          end();
        });
    if (!h.ok()) {
      if (h.status().code() == Code::kExpired) {
        send(Expired(after));
        end();
        return Status::Ok();
      }
      return h.status();
    }
    handle_ = std::move(h).value();
    return Status::Ok();
  }

  std::string BookmarkLine() override {
    json obj = {{"kind", info_.kind},
                {"apiVersion", info_.ApiVersion()},
                {"metadata", {{"resourceVersion", std::to_string(last_.load())}}}};
    if (table_) {
      obj = {{"kind", "Table"},
             {"apiVersion", "meta.k8s.io/v1"},
             {"metadata", {{"resourceVersion", std::to_string(last_.load())}}},
             {"columnDefinitions", json::array()},
             {"rows", json::array()}};
    }
    return json({{"type", "BOOKMARK"}, {"object", obj}}).dump() + "\n";
  }

 private:
  std::string Line(const char* type, json obj) const {
    if (table_) obj = BuildTableRow(info_, obj, include_, now_());
    return json({{"type", type}, {"object", std::move(obj)}}).dump() + "\n";
  }

  std::string Expired(int64_t rv) const {
    return json({{"type", "ERROR"},
                 {"object", StatusObject(410, "Expired",
                                         "too old resource version: " + std::to_string(rv) + " (" +
                                             std::to_string(store_.CompactedRevision()) + ")")}})
               .dump() +
           "\n";
  }

  store::Store& store_;
  const api::ResourceInfo& info_;
  std::string prefix_;
  std::function<bool(const json&)> filter_;
  int64_t fromRv_;
  bool table_;
  IncludeObject include_;
  std::function<int64_t()> now_;
  std::atomic<int64_t> last_{0};
  std::unique_ptr<store::WatchHandle> handle_;
};

}  // namespace

Reply HandleWatch(const RestContext& c) {
  Reply out;
  auto filter = SelectorFilter(c);
  if (!filter.ok()) {
    out.response = ErrorResponse(filter.status());
    return out;
  }
  int64_t from = 0;
  std::string rv = c.req.Query("resourceVersion");
  if (!rv.empty()) {
    try {
      size_t pos = 0;
      from = std::stoll(rv, &pos);
      if (pos != rv.size() || from < 0) throw std::invalid_argument(rv);
    } catch (...) {
      out.response = StatusResponse(400, "BadRequest", "invalid resource version: " + rv);
      return out;
    }
  }
  bool table = WantsTable(c.req);
  const HandlerOptions& o = c.opts;
  auto now = [o]() { return o.now ? o.now() : static_cast<int64_t>(time(nullptr)); };
  auto w = std::make_unique<StoreWatchStream>(c.store(), c.info(),
                                              store::PrefixFor(c.info().resource, c.rr.ns), *filter,
                                              from, table, IncludeOf(c.req), now);
  w->timeoutSeconds = kDefaultWatchTimeoutSeconds;
  if (std::string t = c.req.Query("timeoutSeconds"); !t.empty()) {
    try {
      w->timeoutSeconds = std::max(1, std::stoi(t));
    } catch (...) {
      out.response = StatusResponse(400, "BadRequest", "invalid timeoutSeconds: " + t);
      return out;
    }
  }
  std::string ab = c.req.Query("allowWatchBookmarks");
  w->allowBookmarks = ab == "true" || ab == "1";
  out.response.status = 200;
  out.response.contentType = "application/json";
  out.watch = std::move(w);
  return out;
}

}  // namespace kvol::apiserver
