#include "kvol/apiserver/http_server.h"

#include <openssl/ssl.h>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "kvol/apiserver/peer_cred.h"

#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <mutex>
#include <set>
#include <thread>
#include <variant>
#include <vector>

namespace kvol::apiserver {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

namespace {

// Go's net/http answer to a plain HTTP request on a TLS port (kube-apiserver's too).
constexpr char kPlainHttpOnTls[] =
    "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

// ALPN: HTTP/1.1 only (kubectl offers h2 and http/1.1); no overlap = no ALPN, still HTTP/1.1.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned int inlen, void*) {
  static const unsigned char kHttp11[] = "\x08http/1.1";
  unsigned char* sel = nullptr;
  if (SSL_select_next_proto(&sel, outlen, kHttp11, sizeof kHttp11 - 1, in, inlen) !=
      OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_NOACK;
  *out = sel;
  return SSL_TLSEXT_ERR_OK;
}

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

// One running StreamProducer: its cancel flag, the bytes queued for the client (backpressure),
// and its session (kept alive while the producer runs).
struct StreamState {
  static constexpr size_t kMaxQueued = 1 << 20;
  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> cancelled{false};
  size_t queued = 0;                 // guarded by mu
  std::shared_ptr<Session> session;  // set while the producer runs; reset by its last post

  void Cancel() {
    cancelled = true;
    std::lock_guard<std::mutex> l(mu);
    cv.notify_all();
  }
  void Release(size_t n) {
    std::lock_guard<std::mutex> l(mu);
    queued = n > queued ? 0 : queued - n;
    cv.notify_all();
  }
};

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  Impl(const ApiHandler& h, HttpServerOptions o) : handler(h), opts(o), acceptor(ioc) {}

  void Accept();
  void Track(const std::shared_ptr<Session>& s);
  void Untrack(Session* s);

  const ApiHandler& handler;
  HttpServerOptions opts;
  net::io_context ioc;
  tcp::acceptor acceptor;
  std::optional<net::ssl::context> tls;  // set by Listen when the options ask for HTTPS
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<Session*> sessions;  // guarded by mu; raw pointers, owners are the async chains
  std::vector<std::weak_ptr<Session>> weakSessions;
  bool stopping = false;
  std::set<std::shared_ptr<StreamState>> streams;  // running producers; guarded by mu
  std::condition_variable streamsDone;             // signalled when `streams` shrinks
  // Keeps the io threads running while Stop waits for stream producers to post their last step.
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket s, std::shared_ptr<HttpServer::Impl> srv)
      : stream_(MakeStream(std::move(s), *srv)),
        srv_(std::move(srv)),
        timeoutTimer_(Tcp().get_executor()),
        bookmarkTimer_(Tcp().get_executor()) {}

  ~Session() { srv_->Untrack(this); }

  auto Executor() { return Tcp().get_executor(); }

  void Run() {
    net::dispatch(Executor(), [self = shared_from_this()] {
      if (self->Tls()) return self->DetectTls();
      self->DoRead();
    });
  }

  // From any thread: ends the connection (and its watch or stream) on the session's strand.
  void Shutdown() {
    net::post(Executor(), [self = shared_from_this()] {
      if (self->stream_state_) self->stream_state_->Cancel();
      if ((self->watch_ || (self->stream_state_ && self->streamBegun_)) && !self->ending_) {
        self->Finish();
      } else {
        self->Close(true);
      }
    });
  }

 private:
  using Stream = std::variant<beast::tcp_stream, TlsStream>;

  static Stream MakeStream(tcp::socket s, HttpServer::Impl& srv) {
    if (srv.tls) return Stream(std::in_place_type<TlsStream>, std::move(s), *srv.tls);
    return Stream(std::in_place_type<beast::tcp_stream>, std::move(s));
  }
  TlsStream* Tls() { return std::get_if<TlsStream>(&stream_); }
  beast::tcp_stream& Tcp() {
    if (auto* t = Tls()) return beast::get_lowest_layer(*t);
    return std::get<beast::tcp_stream>(stream_);
  }
  // Calls f with the stream the HTTP bytes go through (the TLS stream, or the TCP stream).
  template <typename F>
  void With(F&& f) {
    if (auto* t = Tls()) return f(*t);
    f(std::get<beast::tcp_stream>(stream_));
  }

  // TLS: the first bytes decide. A TLS hello is handshaken (the bytes already read are handed to
  // the handshake); anything else gets Go's plain-text 400 and the connection closes.
  void DetectTls() {
    Tcp().expires_after(std::chrono::seconds(10));
    beast::async_detect_ssl(
        Tcp(), buf_, [self = shared_from_this()](beast::error_code ec, bool isTls) {
          if (ec) return self->Close(false);
          if (!isTls) return self->RefusePlainHttp();
          self->Tls()->async_handshake(net::ssl::stream_base::server, self->buf_.data(),
                                       [self](beast::error_code ec2, size_t used) {
                                         if (ec2) return self->Close(false);
                                         self->buf_.consume(used);
                                         self->handshaken_ = true;
                                         self->DoRead();
                                       });
        });
  }

  void RefusePlainHttp() {
    net::async_write(Tcp(), net::buffer(kPlainHttpOnTls, sizeof kPlainHttpOnTls - 1),
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->Close(false);
                       // Half-close and read what the client still sends, so that closing the
                       // socket does not reset the connection before the client read the answer.
                       beast::error_code ignored;
                       self->Tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
                       self->Drain();
                     });
  }
  void Drain() {
    buf_.consume(buf_.size());
    Tcp().async_read_some(buf_.prepare(4096),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) return self->Close(false);
                            self->buf_.commit(n);
                            self->Drain();
                          });
  }

  void DoRead() {
    if (closed_) return;
    parser_.emplace();
    parser_->body_limit(srv_->opts.maxBodyBytes);
    Tcp().expires_after(std::chrono::minutes(10));  // idle keep-alive connections
    With([&](auto& s) {
      http::async_read(
          s, buf_, *parser_,
          [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
    });
  }

  void OnRead(beast::error_code ec) {
    if (ec) return Close(false);
    Tcp().expires_never();
    auto& m = parser_->get();
    std::map<std::string, std::string> headers;
    for (const auto& f : m) {
      std::string k(f.name_string());
      for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      headers[k] = std::string(f.value());
    }
    Request req = Request::Make(std::string(m.method_string()), std::string(m.target()),
                                std::move(m.body()), std::move(headers));
    // Over TLS every client sends its token (kubectl does): the peer-uid trust is for plain http.
    req.fromLoopback = !Tls() && TrustedLocalPeer();
    keepAlive_ = m.keep_alive();
    version_ = m.version();
    Reply reply = srv_->handler.Handle(req);
    if (reply.watch) return StartWatch(std::move(reply));
    if (reply.stream) return StartStream(std::move(reply));
    WriteResponse(std::move(reply.response));
  }

  // A loopback peer whose socket belongs to this process's uid or root (see peer_cred.h);
  // computed once per connection.
  bool TrustedLocalPeer() {
    if (trusted_) return *trusted_;
    trusted_ = false;
    beast::error_code e1, e2;
    auto peer = Tcp().socket().remote_endpoint(e1);
    auto local = Tcp().socket().local_endpoint(e2);
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
    With([&](auto& s) {
      http::async_write(s, *res, [self = shared_from_this(), res](beast::error_code ec, size_t) {
        if (ec) return self->Close(false);
        if (!res->keep_alive()) return self->Close(true);
        self->DoRead();
      });
    });
  }

  static std::string ChunkedHead(const Response& r) {
    std::string head = "HTTP/1.1 " + std::to_string(r.status) + " " + ReasonPhrase(r.status) +
                       "\r\nContent-Type: " + r.contentType +
                       "\r\nCache-Control: no-cache, private\r\nTransfer-Encoding: chunked\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    return head;
  }

 public:
  // --- streamed bodies (StreamProducer); the Begin*/Stream* calls run on the strand ---
  void StreamBegin(const Response& head) {
    if (closed_ || ending_ || streamBegun_) return;
    streamBegun_ = true;
    Enqueue(ChunkedHead(head));
  }
  void StreamChunk(std::string chunk) {
    if (!ending_) Enqueue(std::move(chunk));
  }
  void StreamRespond(Response whole) {
    if (closed_ || ending_ || streamBegun_) return;
    streamBegun_ = true;
    ending_ = true;  // nothing else goes out; the connection closes after this response
    keepAlive_ = false;
    WriteResponse(std::move(whole));
  }
  // The producer returned (`fallback` is the Reply's response, sent whole if nothing was sent).
  void StreamDone(Response fallback) {
    if (!streamBegun_) return StreamRespond(std::move(fallback));
    Finish();
  }

 private:
  void StartStream(Reply reply);

  void StartWatch(Reply reply) {
    watch_ = std::move(reply.watch);
    Enqueue(ChunkedHead(reply.response));
    std::weak_ptr<Session> weak = shared_from_this();
    auto exec = Executor();
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
    Probe([self = shared_from_this()] { self->Close(false); });
  }

  // A 1-byte read whose completion means the client left (or broke the protocol).
  template <typename F>
  void Probe(F onDone) {
    auto h = [onDone = std::move(onDone)](beast::error_code, size_t) { onDone(); };
    if (auto* t = Tls()) return t->async_read_some(net::buffer(probe_), std::move(h));
    Tcp().socket().async_read_some(net::buffer(probe_), std::move(h));
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
    auto h = [self = shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); };
    if (auto* t = Tls()) return net::async_write(*t, net::buffer(out_.front()), std::move(h));
    net::async_write(Tcp().socket(), net::buffer(out_.front()), std::move(h));
  }

  void OnWrite(beast::error_code ec) {
    if (ec) return Close(false);
    if (stream_state_) stream_state_->Release(out_.front().size());
    out_.pop_front();
    if (!out_.empty()) return DoWrite();
    writing_ = false;
    if (ending_) Close(true);
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

  // Ends the connection. `graceful`: the server chose to end it with nothing left to write; over
  // TLS it then sends close_notify first (a read still pending completes when the client answers
  // or leaves, and is ignored), bounded by a 500 ms timer. Otherwise the socket just closes.
  void Close(bool graceful) {
    if (closed_) return;
    closed_ = true;
    if (stream_state_) stream_state_->Cancel();
    watch_.reset();
    timeoutTimer_.cancel();
    bookmarkTimer_.cancel();
    if (graceful && handshaken_ && !writing_) {
      timeoutTimer_.expires_after(std::chrono::milliseconds(500));
      timeoutTimer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (!ec) self->CloseSocket();
      });
      Tls()->async_shutdown([self = shared_from_this()](beast::error_code) {
        self->timeoutTimer_.cancel();
        self->CloseSocket();
      });
      return;
    }
    CloseSocket();
  }

  void CloseSocket() {
    beast::error_code ec;
    Tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    Tcp().socket().close(ec);
  }

  Stream stream_;
  std::shared_ptr<HttpServer::Impl> srv_;
  beast::flat_buffer buf_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<bool> trusted_;
  bool keepAlive_ = true;
  unsigned version_ = 11;
  std::unique_ptr<WatchStream> watch_;
  std::shared_ptr<StreamState> stream_state_;  // set while a StreamProducer serves this session
  bool streamBegun_ = false;                   // the head (or a whole response) is queued
  std::deque<std::string> out_;
  bool writing_ = false;
  bool ending_ = false;
  bool closed_ = false;
  net::steady_timer timeoutTimer_;
  net::steady_timer bookmarkTimer_;
  bool handshaken_ = false;  // TLS: the handshake succeeded
  char probe_[1];
};

namespace {

// The StreamSink a producer thread writes to: posts onto the session's strand.
class SessionSink : public StreamSink {
 public:
  SessionSink(std::shared_ptr<StreamState> st, Response head)
      : st_(std::move(st)), head_(std::move(head)) {}
  void Begin(const Response& head) override {
    if (begun_) return;
    begun_ = true;
    Post([head](Session& s) { s.StreamBegin(head); });
  }
  void Respond(Response whole) override {
    if (begun_) return;
    begun_ = true;
    Post([w = std::move(whole)](Session& s) mutable { s.StreamRespond(std::move(w)); });
  }
  bool Write(std::string data) override {
    if (st_->cancelled) return false;
    if (!begun_) Begin(head_);
    if (data.empty()) return true;
    std::string chunk = Chunk(data);
    {
      std::unique_lock<std::mutex> l(st_->mu);
      st_->cv.wait(l, [&] { return st_->cancelled || st_->queued < StreamState::kMaxQueued; });
      if (st_->cancelled) return false;
      st_->queued += chunk.size();
    }
    Post([c = std::move(chunk)](Session& s) mutable { s.StreamChunk(std::move(c)); });
    return true;
  }
  bool Cancelled() const override { return st_->cancelled; }

 private:
  template <typename F>
  void Post(F f);
  std::shared_ptr<StreamState> st_;
  Response head_;
  bool begun_ = false;
};

}  // namespace

void Session::StartStream(Reply reply) {
  auto st = std::make_shared<StreamState>();
  st->session = shared_from_this();
  stream_state_ = st;
  {
    std::lock_guard<std::mutex> l(srv_->mu);
    if (srv_->stopping) st->cancelled = true;
    srv_->streams.insert(st);
  }
  // The client sends nothing while it reads the stream: any read completion means it left.
  Probe([self = shared_from_this()] {
    if (!self->ending_) self->Close(false);
  });
  std::thread([st, srv = srv_, producer = std::move(reply.stream),
               fallback = std::move(reply.response)]() mutable {
    {
      SessionSink sink(st, fallback);
      producer(sink);
    }
    producer = nullptr;  // drop what it captured before the server may go away
    std::shared_ptr<Session> s;
    {
      std::lock_guard<std::mutex> l(st->mu);
      s = std::move(st->session);
    }
    if (s) {
      auto exec = s->Executor();
      net::post(exec, [s, f = std::move(fallback)]() mutable { s->StreamDone(std::move(f)); });
      s.reset();
    }
    std::lock_guard<std::mutex> l(srv->mu);
    srv->streams.erase(st);
    srv->streamsDone.notify_all();
  }).detach();
}

template <typename F>
void SessionSink::Post(F f) {
  std::shared_ptr<Session> s;
  {
    std::lock_guard<std::mutex> l(st_->mu);
    s = st_->session;
  }
  if (!s) return;
  auto exec = s->Executor();
  net::post(exec, [s, f = std::move(f)]() mutable { f(*s); });
}

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

namespace {

Result<net::ssl::context> MakeTlsContext(const HttpServerOptions& o) {
  net::ssl::context ctx(net::ssl::context::tls_server);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  ctx.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_compression);
  beast::error_code ec;
  ctx.use_certificate_chain_file(o.tlsCertFile, ec);
  if (ec) return Internal("cannot load TLS certificate " + o.tlsCertFile + ": " + ec.message());
  ctx.use_private_key_file(o.tlsKeyFile, net::ssl::context::pem, ec);
  if (ec) return Internal("cannot load TLS key " + o.tlsKeyFile + ": " + ec.message());
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    return Internal("TLS key " + o.tlsKeyFile + " does not match " + o.tlsCertFile);
  SSL_CTX_set_alpn_select_cb(ctx.native_handle(), SelectAlpn, nullptr);
  return ctx;
}

}  // namespace

Result<int> HttpServer::Listen(const std::string& host, int port) {
  beast::error_code ec;
  if (!impl_->opts.tlsCertFile.empty() || !impl_->opts.tlsKeyFile.empty()) {
    auto ctx = MakeTlsContext(impl_->opts);
    if (!ctx.ok()) return ctx.status();
    impl_->tls.emplace(std::move(ctx).value());
  }
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
  impl_->work.emplace(impl_->ioc.get_executor());
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
    for (const auto& st : impl_->streams) st->Cancel();
  }
  net::post(impl_->ioc, [impl = impl_] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  for (auto& s : live) s->Shutdown();
  live.clear();
  // Stream producers saw the cancel flag; they post their last step while the io threads run.
  {
    std::unique_lock<std::mutex> l(impl_->mu);
    impl_->streamsDone.wait(l, [&] { return impl_->streams.empty(); });
  }
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
  impl_->work.reset();
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
