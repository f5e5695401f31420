#include "bench/server_links/device_link.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

#include "cJSON.h"
#include "mbedtls/error.h"
#include "mbedtls/net_sockets.h"
#include "net/tls/tls_suites.h"

namespace sublink {

namespace {

std::string errno_text(std::string_view where, int error) {
  return std::string(where) + ": " + strerror(error);
}

}  // namespace

const char* link_stage_name(LinkStage stage) {
  switch (stage) {
    case LinkStage::idle: return "idle";
    case LinkStage::connecting: return "connecting";
    case LinkStage::tls: return "tls";
    case LinkStage::upgrading: return "upgrading";
    case LinkStage::greeting: return "greeting";
    case LinkStage::up: return "up";
    case LinkStage::failed: return "failed";
  }
  return "?";
}

DeviceLink::DeviceLink(const FleetSetup& fleet, std::string system_id)
    : fleet_(fleet), system_id_(std::move(system_id)) {
  mbedtls_x509_crt_init(&certificate_);
  mbedtls_ssl_config_init(&tls_config_);
  mbedtls_ssl_init(&tls_);
}

DeviceLink::~DeviceLink() {
  if (fd_ >= 0) ::close(fd_);
  mbedtls_ssl_free(&tls_);
  mbedtls_ssl_config_free(&tls_config_);
  mbedtls_x509_crt_free(&certificate_);
}

Status DeviceLink::prepare(std::span<const uint8_t> certificate_der) {
  int rc = mbedtls_x509_crt_parse_der(&certificate_, certificate_der.data(), certificate_der.size());
  if (rc == 0) {
    rc = mbedtls_ssl_config_defaults(&tls_config_, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
  }
  if (rc == 0) rc = mbedtls_ssl_conf_own_cert(&tls_config_, &certificate_, fleet_.device_key);
  if (rc != 0) return Status(Reason::invalid_argument, rc);
  // As the agent's TLS client: TLS 1.2 only, its suites, the server proven
  // by the configured CA (no host name: the bench server is an IP literal).
  mbedtls_ssl_conf_min_version(&tls_config_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_max_version(&tls_config_, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_ciphersuites(&tls_config_, kTlsCipherSuites);
  mbedtls_ssl_conf_curves(&tls_config_, kTlsCurves);
  mbedtls_ssl_conf_authmode(&tls_config_, MBEDTLS_SSL_VERIFY_REQUIRED);
  mbedtls_ssl_conf_ca_chain(&tls_config_, fleet_.trust_anchors, nullptr);
  mbedtls_ssl_conf_rng(&tls_config_, TlsRandom::generate, fleet_.tls_random->context());
  return Status::Ok();
}

void DeviceLink::start(Millis now) {
  started_at_ = now;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return fail(errno_text("socket", errno));
  const int on = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
  stage_ = LinkStage::connecting;
  want_write_ = true;  // writable = connected (or failed)
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&fleet_.server), sizeof(fleet_.server)) == 0) {
    begin_tls();
    advance(now);
  } else if (errno != EINPROGRESS) {
    fail(errno_text("connect", errno));
  }
}

void DeviceLink::on_ready(uint32_t events, Millis now) {
  if (stage_ == LinkStage::failed || stage_ == LinkStage::idle) return;
  if (stage_ == LinkStage::connecting) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    int error = 0;
    socklen_t size = sizeof(error);
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &size);
    if (error != 0) return fail(errno_text("connect", error));
    begin_tls();
  }
  advance(now);
}

void DeviceLink::begin_tls() {
  stage_ = LinkStage::tls;
  int rc = mbedtls_ssl_setup(&tls_, &tls_config_);
  if (rc != 0) return fail_tls("tls setup", rc);
  tls_ready_ = true;
  mbedtls_ssl_set_bio(&tls_, this, send_to_socket, receive_from_socket, nullptr);
}

void DeviceLink::advance(Millis now) {
  if (stage_ == LinkStage::tls) {
    const int rc = mbedtls_ssl_handshake(&tls_);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
      want_write_ = rc == MBEDTLS_ERR_SSL_WANT_WRITE;
      return;
    }
    if (rc != 0) return fail_tls("tls", rc);
    stage_ = LinkStage::upgrading;
    ws_ = std::make_unique<WsClient>(fleet_.ws, *fleet_.random);
    const Status s = ws_->start();
    if (!s.ok()) return fail(std::string("websocket: ") + reason_name(s.reason()));
  }
  flush();
  if (stage_ != LinkStage::failed) read_all(now);
  if (stage_ != LinkStage::failed) flush();
}

void DeviceLink::read_all(Millis now) {
  unsigned char buffer[4096];
  while (stage_ != LinkStage::failed) {
    const int rc = mbedtls_ssl_read(&tls_, buffer, sizeof(buffer));
    if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return;
    if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return fail("closed by the server");
    if (rc < 0) return fail_tls("tls read", rc);
    std::span<const uint8_t> rest(buffer, static_cast<size_t>(rc));
    while (!rest.empty() && stage_ != LinkStage::failed) {
      rest = rest.subspan(ws_->feed(rest));
      handle_ws_events(now);
    }
  }
}

void DeviceLink::handle_ws_events(Millis now) {
  WsEvent event;
  while (stage_ != LinkStage::failed && ws_->next_event(event)) {
    switch (event.type) {
      case WsEventType::open: {
        stage_ = LinkStage::greeting;
        char hello[512];
        snprintf(hello, sizeof(hello),
                 "{\"type\":\"hello\",\"id\":%lld,\"proto\":1,\"customer_id\":\"%s\",\"system_id\":\"%s\","
                 "\"agent\":\"bench_server_links\",\"fw\":\"bench\",\"role\":\"primary\",\"boot\":1,\"time\":null,"
                 "\"state\":\"unlicensed\",\"grace_elapsed_s\":0,\"license_serial\":null}",
                 static_cast<long long>(next_id_++), fleet_.customer_id.c_str(), system_id_.c_str());
        send(hello);
        char request[256];
        snprintf(request, sizeof(request),
                 "{\"type\":\"license_request\",\"id\":%lld,\"features\":[{\"name\":\"%s\",\"qty\":%u}]}",
                 static_cast<long long>(next_id_++), fleet_.feature.c_str(), fleet_.quantity);
        send(request);
        break;
      }
      case WsEventType::text:
        on_message(event.text(), now);
        break;
      case WsEventType::closed: {
        char why[192];
        snprintf(why, sizeof(why), "websocket closed: %u %.*s (%s)", static_cast<unsigned>(event.close_code),
                 static_cast<int>(event.close_reason.size()), event.close_reason.data(),
                 reason_name(event.status.reason()));
        return fail(why);
      }
      case WsEventType::binary:
      case WsEventType::pong:
      case WsEventType::request:  // the server role's event
        break;
    }
  }
}

void DeviceLink::on_message(std::string_view text, Millis now) {
  cJSON* message = cJSON_ParseWithLength(text.data(), text.size());
  const cJSON* type_item = cJSON_GetObjectItemCaseSensitive(message, "type");
  const std::string type = cJSON_IsString(type_item) ? type_item->valuestring : "";
  if (type == "heartbeat_ack") {
    ++heartbeats_answered_;
  } else if (type == "welcome") {
    const cJSON* heartbeat = cJSON_GetObjectItemCaseSensitive(message, "heartbeat_s");
    heartbeat_interval_ms_ = cJSON_IsNumber(heartbeat) ? static_cast<Millis>(heartbeat->valuedouble * 1000) : 60000;
    welcomed_ = true;
  } else if (type == "license_grant") {
    licensed_ = true;
  } else if (type == "license_denied" || type == "error" || type == "disconnect") {
    const cJSON* code = cJSON_GetObjectItemCaseSensitive(message, type == "disconnect" ? "reason" : "code");
    std::string why = type + ": " + (cJSON_IsString(code) ? code->valuestring : "?");
    cJSON_Delete(message);
    return fail(why);
  } else if (message == nullptr) {
    return fail("the server sent a message that is not JSON");
  }
  cJSON_Delete(message);
  if (stage_ == LinkStage::greeting && welcomed_ && licensed_) {
    stage_ = LinkStage::up;
    up_at_ = now;
  }
}

void DeviceLink::send_heartbeat(Millis now) {
  if (stage_ != LinkStage::up) return;
  char heartbeat[160];
  snprintf(heartbeat, sizeof(heartbeat), "{\"type\":\"heartbeat\",\"id\":%lld,\"seq\":%llu,\"uptime_s\":%lld}",
           static_cast<long long>(next_id_++), static_cast<unsigned long long>(heartbeats_sent_ + 1),
           static_cast<long long>((now - started_at_) / 1000));
  send(heartbeat);
  ++heartbeats_sent_;
  flush();
}

void DeviceLink::send(std::string_view text) {
  if (stage_ == LinkStage::failed) return;
  const Status s = ws_->send_text(text);
  if (!s.ok()) fail(std::string("websocket send: ") + reason_name(s.reason()));
}

void DeviceLink::flush() {
  while (stage_ != LinkStage::failed && ws_ && !ws_->output().empty()) {
    const std::span<const uint8_t> out = ws_->output();
    const int rc = mbedtls_ssl_write(&tls_, out.data(), out.size());
    if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
      want_write_ = true;  // Mbed TLS holds the record; the same call completes it
      return;
    }
    if (rc == MBEDTLS_ERR_SSL_WANT_READ) return;
    if (rc < 0) return fail_tls("tls write", rc);
    ws_->consume_output(static_cast<size_t>(rc));
  }
  want_write_ = false;
}

void DeviceLink::fail_tls(std::string_view where, int code) {
  char text[160];
  mbedtls_strerror(code, text, sizeof(text));
  fail(std::string(where) + ": " + text);
}

void DeviceLink::fail(std::string why) {
  if (stage_ == LinkStage::failed) return;
  failure_ = why.empty() ? std::string("failed while ") + link_stage_name(stage_) : std::move(why);
  stage_ = LinkStage::failed;
  want_write_ = false;
  ws_.reset();
  if (tls_ready_) {
    mbedtls_ssl_free(&tls_);
    mbedtls_ssl_init(&tls_);
    tls_ready_ = false;
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int DeviceLink::send_to_socket(void* self, const unsigned char* data, size_t size) {
  auto* link = static_cast<DeviceLink*>(self);
  const ssize_t n = ::send(link->fd_, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n >= 0) return static_cast<int>(n);
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return MBEDTLS_ERR_SSL_WANT_WRITE;
  return MBEDTLS_ERR_NET_SEND_FAILED;
}

int DeviceLink::receive_from_socket(void* self, unsigned char* data, size_t size) {
  auto* link = static_cast<DeviceLink*>(self);
  const ssize_t n = ::recv(link->fd_, data, size, MSG_DONTWAIT);
  if (n >= 0) return static_cast<int>(n);  // 0: the server closed (Mbed TLS: EOF)
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return MBEDTLS_ERR_SSL_WANT_READ;
  return MBEDTLS_ERR_NET_RECV_FAILED;
}

}  // namespace sublink
