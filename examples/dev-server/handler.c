/* The dev server's request handler: the HTTP server (server.ts) owns the sockets; this
 * library decides what each route answers. Rebuild it while the server runs and the next
 * requests are answered by the new build, without a restart or a dropped request.
 *
 *   gcc -shared -fPIC -O2 -DBUILD=2 -o libhandler.so handler.c
 */
#include <stdint.h>

#ifndef BUILD
#define BUILD 1
#endif

/* Route id -> a value the server renders; BUILD shows which build answered. */
int32_t handle(int32_t route) {
  switch (route) {
  case 0: return BUILD * 100;           /* GET /        */
  case 1: return BUILD * 100 + 1;       /* GET /users   */
  case 2: return BUILD * 100 + 2;       /* GET /items   */
  default: return -1;                   /* not a route  */
  }
}
