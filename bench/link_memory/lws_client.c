/* A minimal sublink/1 client on Debian's libwebsockets, the peer that
 * bench_link_memory.py holds beside sublinkd: mutual TLS 1.2, the WebSocket
 * upgrade with the sublink.v1 subprotocol, one hello, then the link held
 * idle for --hold-s seconds. Prints "welcome" when the server accepted the
 * hello and "held" at the end; exit 1 on any failure.
 *
 *   lws_client --port P --ca CA --cert CRT --key KEY --system S --customer C --hold-s N
 */
#define _GNU_SOURCE  /* memmem */
#include <libwebsockets.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct options {
  int port;
  const char* ca;
  const char* cert;
  const char* key;
  const char* system;
  const char* customer;
  int hold_s;
};

static int failed;
static int welcomed;
static int closed;

static int on_event(struct lws* wsi, enum lws_callback_reasons reason, void* user, void* in, size_t len) {
  (void)user;
  const struct options* o = (const struct options*)lws_context_user(lws_get_context(wsi));
  switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
      lws_callback_on_writable(wsi);
      break;
    case LWS_CALLBACK_CLIENT_WRITEABLE: {
      unsigned char buffer[LWS_PRE + 512];
      char* text = (char*)buffer + LWS_PRE;
      const int n = snprintf(text, 512,
                             "{\"type\":\"hello\",\"id\":1,\"proto\":1,\"customer_id\":\"%s\",\"system_id\":\"%s\","
                             "\"agent\":\"lws-bench\",\"fw\":\"0\",\"role\":\"primary\",\"boot\":1,\"time\":null,"
                             "\"state\":\"unlicensed\",\"grace_elapsed_s\":0,\"license_serial\":null}",
                             o->customer, o->system);
      if (n <= 0 || n >= 512 || lws_write(wsi, buffer + LWS_PRE, (size_t)n, LWS_WRITE_TEXT) != n) {
        fprintf(stderr, "lws_client: hello not written\n");
        failed = 1;
        return -1;
      }
      break;
    }
    case LWS_CALLBACK_CLIENT_RECEIVE:
      if (!welcomed && len > 0 && memmem(in, len, "\"welcome\"", 9) != NULL) {
        welcomed = 1;
        printf("welcome\n");
        fflush(stdout);
      }
      break;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
      fprintf(stderr, "lws_client: connection error: %s\n", in != NULL ? (const char*)in : "(none)");
      failed = 1;
      break;
    case LWS_CALLBACK_CLIENT_CLOSED:
      closed = 1;
      break;
    default:
      break;
  }
  return 0;
}

static const struct lws_protocols protocols[] = {
    {"sublink.v1", on_event, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static int parse(int argc, char** argv, struct options* o) {
  memset(o, 0, sizeof *o);
  o->hold_s = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char* k = argv[i];
    const char* v = argv[i + 1];
    if (strcmp(k, "--port") == 0) o->port = atoi(v);
    else if (strcmp(k, "--ca") == 0) o->ca = v;
    else if (strcmp(k, "--cert") == 0) o->cert = v;
    else if (strcmp(k, "--key") == 0) o->key = v;
    else if (strcmp(k, "--system") == 0) o->system = v;
    else if (strcmp(k, "--customer") == 0) o->customer = v;
    else if (strcmp(k, "--hold-s") == 0) o->hold_s = atoi(v);
    else return 0;
  }
  return o->port > 0 && o->ca && o->cert && o->key && o->system && o->customer;
}

int main(int argc, char** argv) {
  struct options o;
  if (!parse(argc, argv, &o)) {
    fprintf(stderr, "usage: lws_client --port P --ca CA --cert CRT --key KEY --system S --customer C [--hold-s N]\n");
    return 2;
  }
  lws_set_log_level(LLL_ERR, NULL);
  struct lws_context_creation_info info;
  memset(&info, 0, sizeof info);
  info.port = CONTEXT_PORT_NO_LISTEN;
  info.protocols = protocols;
  info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.client_ssl_ca_filepath = o.ca;
  info.client_ssl_cert_filepath = o.cert;
  info.client_ssl_private_key_filepath = o.key;
  info.user = &o;
  struct lws_context* context = lws_create_context(&info);
  if (context == NULL) {
    fprintf(stderr, "lws_client: no context\n");
    return 1;
  }
  struct lws_client_connect_info c;
  memset(&c, 0, sizeof c);
  c.context = context;
  c.address = "127.0.0.1";
  c.port = o.port;
  c.path = "/sublink/v1";
  c.host = "localhost";
  c.origin = "localhost";
  c.protocol = "sublink.v1";
  c.ssl_connection = LCCSCF_USE_SSL;
  if (lws_client_connect_via_info(&c) == NULL) {
    fprintf(stderr, "lws_client: connect failed\n");
    lws_context_destroy(context);
    return 1;
  }
  time_t end = 0;
  while (!failed && !closed) {
    if (lws_service(context, 100) < 0) break;
    if (welcomed && end == 0) end = time(NULL) + o.hold_s;
    if (end != 0 && time(NULL) >= end) break;
  }
  const int ok = welcomed && !failed && !closed;
  if (ok) printf("held\n");
  lws_context_destroy(context);
  return ok ? 0 : 1;
}
