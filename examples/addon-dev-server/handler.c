/* The addon dev server's request handler, a Node-API addon: the HTTP server (server.ts)
 * owns the sockets; handle(path) decides what each route answers, as { status, body }.
 * Rebuild it while the server runs and the next requests are answered by the new build,
 * without a restart or a failed request.
 *
 *   gcc -shared -fPIC -O2 -I node_modules/node-api-headers/include -DBUILD=2 -o handler.node handler.c
 */
#include <node_api.h>
#include <stdio.h>
#include <string.h>

#ifndef BUILD
#define BUILD 1
#endif

static napi_value response(napi_env env, int status, const char *body) {
  napi_value out, value;
  napi_create_object(env, &out);
  napi_create_int32(env, status, &value);
  napi_set_named_property(env, out, "status", value);
  napi_create_string_utf8(env, body, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, out, "body", value);
  return out;
}

/* handle(path: string): { status: number, body: string } */
static napi_value handle(napi_env env, napi_callback_info info) {
  size_t argc = 1, length = 0;
  napi_value argv[1];
  char path[256] = "";
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], path, sizeof path, &length) != napi_ok) {
    napi_throw_type_error(env, "EHANDLER_ARG", "handle(path) takes a string");
    return NULL;
  }
  const char *routes[] = { "/", "/users", "/items" };
  for (int route = 0; route < 3; route++) {
    if (strcmp(path, routes[route]) != 0) continue;
    char body[128];
    snprintf(body, sizeof body, "{\"route\":%d,\"build\":%d}", route, BUILD);
    return response(env, 200, body);
  }
  return response(env, 404, "{\"error\":\"no such route\"}");
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "handle", NAPI_AUTO_LENGTH, handle, NULL, &fn);
  napi_set_named_property(env, exports, "handle", fn);
  return exports;
}
