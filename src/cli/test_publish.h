/* test_publish.h - the test-only route that publishes synthetic events (test_publish.c). */
#ifndef APEX_CLI_TEST_PUBLISH_H
#define APEX_CLI_TEST_PUBLISH_H

#include "api/http.h"
#include "app/app.h"

/* POST /api/v1/_test/publish {"symbols": [..], "rate_hz", "portfolios": [{"portfolio_id",
 * "user_id"}], "portfolio_rate_hz", "trades": [{"user_id"}], "trade_rate_hz", "seconds"}: 202,
 * then ticker, portfolio and trade events at those rates for that long (10 s by default) from a
 * thread; 409 while one runs. */
int apex_test_publish(apex_req *req, apex_res *res, void *app);
/* Stops and joins the thread (before the events port goes). */
void apex_test_publish_stop(void);

#endif
