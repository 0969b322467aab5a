#include "kvol/apiserver/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "kvol/apiserver/peer_cred.h"

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace kvol::apiserver {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

std::string Hex(size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%zx", n);
  return buf;
}

std::string Chunk(const std::string& data) { return Hex(data.size()) + "\r\n" + data + "\r\n"; }

const char* ReasonPhrase(int code) {
  return http::obsolete_reason(static_cast<http::status>(code)).data();
}

}  // namespace

class Session;

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(const ApiHandler& h, HttpServerOptions o) : handler(h), opts(o), acceptor(ioc) {}

  void Accept();
  void Track(const std::shared_ptr<Session>& s);
  void Untrack(Session* s);

  const ApiHandler& handler;
  HttpServerOptions opts;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<Session*> sessions;  // guarded by mu; raw pointers, owners are the async chains
  std::vector<std::weak_ptr<Session>> weakSessions;
  bool stopping = false;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket s, std::shared_ptr<HttpServer::Impl> srv)
      : stream_(std::move(s)),
        srv_(std::move(srv)),
        timeoutTimer_(stream_.get_executor()),
        bookmarkTimer_(stream_.get_executor()) {}

  ~Session() { srv_->Untrack(this); }

  void Run() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->DoRead(); });
  }

  // From any thread: ends the connection (and its watch) on the session's strand.
  void Shutdown() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->watch_ && !self->ending_) {
        self->Finish();
      } else {
        self->Close();
      }
    });
  }

 private:
  void DoRead() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(srv_->opts.maxBodyBytes);
    stream_.expires_after(std::chrono::minutes(10));  // idle keep-alive connections
    http::async_read(
        stream_, buf_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Close();
    stream_.expires_never();
    auto& m = parser_->get();
    std::map<std::string, std::string> headers;
    for (const auto& f : m) {
      std::string k(f.name_string());
      for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      headers[k] = std::string(f.value());
    }
    Request req = Request::Make(std::string(m.method_string()), std::string(m.target()),
                                std::move(m.body()), std::move(headers));
    req.fromLoopback = TrustedLocalPeer();
    keepAlive_ = m.keep_alive();
    version_ = m.version();
    Reply reply = srv_->handler.Handle(req);
    if (reply.watch) return StartWatch(std::move(reply));
    WriteResponse(std::move(reply.response));
  }

  // A loopback peer whose socket belongs to this process's uid or root (see peer_cred.h);
  // computed once per connection.
  bool TrustedLocalPeer() {
    if (trusted_) return *trusted_;
    trusted_ = false;
    beast::error_code e1, e2;
    auto peer = stream_.socket().remote_endpoint(e1);
    auto local = stream_.socket().local_endpoint(e2);
    if (e1 || e2) return false;
    std::string pa = peer.address().to_string(), la = local.address().to_string();
    if (!IsLoopbackAddress(pa)) return false;
    auto uid = LoopbackPeerUid(pa, peer.port(), la, local.port());
    trusted_ = uid && (*uid == ::geteuid() || *uid == 0);
    return *trusted_;
  }

  void WriteResponse(Response r) {
    auto res = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(r.status), version_);
    res->set(http::field::content_type, r.contentType);
    res->set(http::field::cache_control, "no-cache, private");
    for (const auto& [k, v] : r.headers) res->insert(k, v);
    res->body() = std::move(r.body);
    res->keep_alive(keepAlive_);
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, size_t) {
                        if (ec || !res->keep_alive()) return self->Close();
                        self->DoRead();
                      });
  }

  void StartWatch(Reply reply) {
    watch_ = std::move(reply.watch);
    std::string head = "HTTP/1.1 " + std::to_string(reply.response.status) + " " +
                       ReasonPhrase(reply.response.status) +
                       "\r\nContent-Type: " + reply.response.contentType +
                       "\r\nCache-Control: no-cache, private\r\nTransfer-Encoding: chunked\r\n";
    for (const auto& [k, v] : reply.response.headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    Enqueue(std::move(head));
    std::weak_ptr<Session> weak = shared_from_this();
    auto exec = stream_.get_executor();
    auto send = [weak, exec](std::string line) {
      if (auto s = weak.lock()) {
        net::post(exec, [s, l = std::move(line)]() mutable {
          if (!s->ending_) s->Enqueue(Chunk(l));
        });
      }
    };
    auto end = [weak, exec] {
      if (auto s = weak.lock()) net::post(exec, [s] { s->Finish(); });
    };
    Status st = watch_->Start(send, end);
    if (!st.ok()) {
      std::string line = std::string("{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",") +
                         "\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\"," +
                         "\"message\":" + api::json(st.message()).dump() + ",\"code\":500}}\n";
      Enqueue(Chunk(line));
      return Finish();
    }
    timeoutTimer_.expires_after(std::chrono::seconds(watch_->timeoutSeconds));
    timeoutTimer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec) self->Finish();
    });
    if (watch_->allowBookmarks) ScheduleBookmark();
    // The client sends nothing while it watches: any read completion means it left.
    stream_.socket().async_read_some(
        net::buffer(probe_),
        [self = shared_from_this()](beast::error_code, size_t) { self->Close(); });
  }

  void ScheduleBookmark() {
    bookmarkTimer_.expires_after(std::chrono::seconds(srv_->opts.bookmarkIntervalSeconds));
    bookmarkTimer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->ending_ || !self->watch_) return;
      self->Enqueue(Chunk(self->watch_->BookmarkLine()));
      self->ScheduleBookmark();
    });
  }

  void Enqueue(std::string data) {
    if (closed_) return;
    out_.push_back(std::move(data));
    if (!writing_) DoWrite();
  }

  void DoWrite() {
    writing_ = true;
    net::async_write(
        stream_.socket(), net::buffer(out_.front()),
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(beast::error_code ec) {
    if (ec) return Close();
    out_.pop_front();
    if (!out_.empty()) return DoWrite();
    writing_ = false;
    if (ending_) Close();
  }

  // Ends a watch: no more events, the terminating chunk, then the connection closes.
  void Finish() {
    if (ending_ || closed_) return;
    ending_ = true;
    watch_.reset();
    timeoutTimer_.cancel();
    bookmarkTimer_.cancel();
    Enqueue("0\r\n\r\n");
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    watch_.reset();
    timeoutTimer_.cancel();
    bookmarkTimer_.cancel();
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  std::shared_ptr<HttpServer::Impl> srv_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<bool> trusted_;
  bool keepAlive_ = true;
  unsigned version_ = 11;
  std::unique_ptr<WatchStream> watch_;
  std::deque<std::string> out_;
  bool writing_ = false;
  bool ending_ = false;
  bool closed_ = false;
  net::steady_timer timeoutTimer_;
  net::steady_timer bookmarkTimer_;
  char probe_[1];
};

void HttpServer::Impl::Track(const std::shared_ptr<Session>& s) {
  std::lock_guard<std::mutex> l(mu);
  sessions.insert(s.get());
  weakSessions.push_back(s);
  if (weakSessions.size() > 2 * sessions.size() + 64) {
    std::vector<std::weak_ptr<Session>> live;
    for (auto& w : weakSessions)
      if (!w.expired()) live.push_back(w);
    weakSessions.swap(live);
  }
}

void HttpServer::Impl::Untrack(Session* s) {
  std::lock_guard<std::mutex> l(mu);
  sessions.erase(s);
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc),
                        [self = shared_from_this()](beast::error_code ec, tcp::socket sock) {
                          if (ec) {
                            if (ec == net::error::operation_aborted || !self->acceptor.is_open())
                              return;
                          } else {
                            auto s = std::make_shared<Session>(std::move(sock), self);
                            {
                              std::lock_guard<std::mutex> l(self->mu);
                              if (self->stopping) return;
                            }
                            self->Track(s);
                            s->Run();
                          }
                          self->Accept();
                        });
}

HttpServer::HttpServer(const ApiHandler& handler, HttpServerOptions opts)
    : impl_(std::make_shared<Impl>(handler, opts)) {}

HttpServer::~HttpServer() { Stop(); }

Result<int> HttpServer::Listen(const std::string& host, int port) {
  beast::error_code ec;
  std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  auto addr = net::ip::make_address(h, ec);
  if (ec) return Status(Code::kBadRequest, "invalid listen address \"" + host + "\"");
  tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  auto& a = impl_->acceptor;
  a.open(ep.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(ep, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Code::kUnavailable,
                  "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  return static_cast<int>(a.local_endpoint().port());
}

void HttpServer::Start() {
  impl_->Accept();
  for (int i = 0; i < std::max(1, impl_->opts.threads); ++i) {
    impl_->threads.emplace_back([impl = impl_] { impl->ioc.run(); });
  }
}

void HttpServer::Stop() {
  if (!impl_) return;
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> l(impl_->mu);
    if (impl_->stopping) return;
    impl_->stopping = true;
    for (auto& w : impl_->weakSessions)
      if (auto s = w.lock()) live.push_back(s);
    impl_->weakSessions.clear();
  }
  net::post(impl_->ioc, [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  for (auto& s : live) s->Shutdown();
  live.clear();
  // Watches write their terminating chunk; idle connections close. Then the io threads run out
  // of work. A client that never reads its socket is not waited for beyond two seconds.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < deadline) {
    {
      std::lock_guard<std::mutex> l(impl_->mu);
      if (impl_->sessions.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // Handlers that became ready as the io threads stopped (the aborted accept, closing sessions)
  // each hold the Impl; a handler left queued in the io_context the Impl owns is a reference
  // cycle. Run them, so the Impl is freed with the server.
  impl_->ioc.restart();
  impl_->ioc.poll();
}

}  // namespace kvol::apiserver
