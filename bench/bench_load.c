/* bench_load.c - loading speed: 1,000,000 seeded synthetic 1-minute candles as header CSV in a temp
 * file, loaded five times; prints the best rate. A figure, not a pass/fail. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "io/load.h"

#define ROWS 1000000

static uint64_t rng = 0x9E3779B97F4A7C15ull; /* fixed seed: the same file every run */
static double uniform(void)
{
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return (double)(rng >> 11) / 9007199254740992.0;
}

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
  char path[] = "/tmp/apex_bench_load_XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  int rc = 1;
  if (!f) {
    perror("bench_load: temp file");
    return 1;
  }
  fprintf(f, "datetime,open,high,low,close,volume\n");
  double price = 42000.0;
  time_t t0 = 1704067200; /* 2024-01-01 */
  for (long i = 0; i < ROWS; i++) {
    time_t t = t0 + i * 60;
    struct tm tm;
    gmtime_r(&t, &tm);
    double open = price, close = price * (1 + (uniform() - 0.5) * 0.002);
    double high = (open > close ? open : close) * (1 + uniform() * 0.001);
    double low = (open < close ? open : close) * (1 - uniform() * 0.001);
    fprintf(f, "%04d-%02d-%02d %02d:%02d:%02d,%.2f,%.2f,%.2f,%.2f,%.6f\n", tm.tm_year + 1900, tm.tm_mon + 1,
            tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, open, high + 0.01, low - 0.01, close, uniform() * 50);
    price = close;
  }
  if (fclose(f)) {
    perror("bench_load: write");
    goto out;
  }
  struct stat st;
  stat(path, &st);
  double best = 1e9;
  for (int run = 0; run < 5; run++) {
    apex_series *s = NULL;
    apex_error err;
    double a = now();
    if (apex_load_candles(path, NULL, &s, NULL, &err)) {
      fprintf(stderr, "bench_load: %s\n", err.msg);
      goto out;
    }
    double b = now() - a;
    if (s->n != ROWS) {
      fprintf(stderr, "bench_load: %zu rows, expected %d\n", s->n, ROWS);
      apex_series_free(s);
      goto out;
    }
    apex_series_free(s);
    if (b < best)
      best = b;
  }
  printf("file_bytes %lld\n", (long long)st.st_size);
  printf("rows %d\n", ROWS);
  printf("best_seconds %.4f\n", best);
  printf("rows_per_second %.0f\n", ROWS / best);
  rc = 0;
out:
  unlink(path);
  return rc;
}
