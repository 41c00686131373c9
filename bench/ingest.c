/* ingest.c - candle import speed through store.h: 1,000,000 synthetic 1-minute candles into a fresh
 * SQLite file, and into PostgreSQL when APEX_TEST_PG_URL is set. Prints rows_per_second for each;
 * compare with the raw database figures in ARCHITECTURE.md. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store/store.h"

#define ROWS 1000000

static double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(const char *label, const char *url, const apex_series *s, const char *symbol)
{
  apex_store *st = NULL;
  apex_error err = {0};
  int rc = 1;
  if (apex_store_open(url, 1, &st, &err) || apex_store_migrate(st, &err)) {
    fprintf(stderr, "ingest %s: %s\n", label, err.msg);
    goto out;
  }
  double t0 = now_s();
  if (apex_store_ohlcv_put(st, symbol, "1m", s, "bench", &err)) {
    fprintf(stderr, "ingest %s: %s\n", label, err.msg);
    goto out;
  }
  double secs = now_s() - t0;
  printf("ingest %-10s rows %d  seconds %.3f  rows_per_second %.0f\n", label, ROWS, secs, ROWS / secs);
  t0 = now_s();
  if (apex_store_ohlcv_put(st, symbol, "1m", s, "bench", &err)) { /* the same rows again: upsert */
    fprintf(stderr, "ingest %s: %s\n", label, err.msg);
    goto out;
  }
  secs = now_s() - t0;
  printf("ingest %-10s upsert of the same rows: seconds %.3f  rows_per_second %.0f\n", label, secs, ROWS / secs);
  rc = 0;
out:
  apex_store_close(st);
  return rc;
}

int main(void)
{
  apex_series *s = apex_series_new(ROWS);
  uint64_t x = 88172645463325252ULL;
  double price = 42000.0;
  char path[256], symbol[40];
  int rc = 0;

  if (!s)
    return 1;
  for (int i = 0; i < ROWS; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    double step = (double)(x % 2001) / 100.0 - 10.0; /* whole cents, like real quotes */
    double o = price, c = price + step;
    apex_bar b = {INT64_C(1577836800000) + (int64_t)i * 60000, o, (o > c ? o : c) + 1.25, (o < c ? o : c) - 0.75, c,
                  (double)(x % 100000) / 1000.0};
    apex_series_append(s, &b);
    price = c < 100 ? 100 : c;
  }
  snprintf(path, sizeof path, "/tmp/apex-ingest-%d.db", (int)getpid());
  unlink(path);
  rc |= run("sqlite", path, s, "BTC/USDT");
  unlink(path);
  strcat(path, "-wal");
  unlink(path);
  path[strlen(path) - 4] = '\0';
  strcat(path, "-shm");
  unlink(path);
  const char *pg = getenv("APEX_TEST_PG_URL");
  if (pg && *pg) {
    /* A new symbol each run: the first import takes the COPY path into an empty range. */
    snprintf(symbol, sizeof symbol, "BENCH%ld/USDT", (long)time(NULL) % 100000000);
    rc |= run("postgresql", pg, s, symbol);
  } else {
    printf("ingest postgresql skipped (APEX_TEST_PG_URL not set)\n");
  }
  apex_series_free(s);
  return rc;
}
