/* metrics.c - the metrics accumulator: O(1) work and state per bar (Welford and compensated sums);
 * memory grows only by one entry per calendar month. UTC days and months come from integer
 * arithmetic on the bar times (floor division, so times before 1970 land on the right day). */
#include "core/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/timeframe.h"

/* Neumaier's compensated sum: keeps long runs of small terms from drowning in a large total. */
typedef struct ksum {
  double s, c;
} ksum;

/* Daily returns: Welford mean and M2 (stable variance), compensated sum of squared losses. */
typedef struct ret_stats {
  size_t n;
  double mean, m2;
  ksum down_sq;
} ret_stats;

struct apex_metrics_acc {
  double initial;
  int ppy;
  size_t bars, bars_in_market;
  int64_t first_time, last_time;
  double last_equity;

  int64_t day;           /* floor(time / 1 day) of the current (still open) day */
  double prev_day_close; /* equity at the last bar of the day before it */
  ret_stats daily;

  double peak;        /* running peak, starting at the initial capital */
  int64_t peak_time;  /* when it was set (or last regained) */
  double max_dd_pct;
  int64_t max_dd_ms;

  int64_t month;           /* year * 12 + (month - 1) of the current (still open) month */
  double prev_month_close; /* equity at the last bar of the month before it */
  apex_month_return *months; /* closed months */
  size_t n_months, cap_months;

  size_t trades, wins, losses;
  ksum gross_profit, gross_loss, trade_pct_sum;
  double best_pct, worst_pct;
};

static void ksum_add(ksum *k, double x)
{
  double t = k->s + x;
  if (fabs(k->s) >= fabs(x))
    k->c += (k->s - t) + x;
  else
    k->c += (x - t) + k->s;
  k->s = t;
}

static double ksum_value(const ksum *k)
{
  return k->s + k->c;
}

/* A return needs a positive base: after a blown account (equity <= 0) days add no return. */
static void stats_add_day(ret_stats *st, double prev_close, double close)
{
  if (!(prev_close > 0))
    return;
  double r = close / prev_close - 1.0;
  st->n++;
  double delta = r - st->mean;
  st->mean += delta / (double)st->n;
  st->m2 += delta * (r - st->mean);
  if (r < 0)
    ksum_add(&st->down_sq, r * r);
}

static int64_t floor_div(int64_t a, int64_t b)
{
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t month_of_day(int64_t day)
{
  int64_t y;
  int m, d;
  apex_civil_from_days(day, &y, &m, &d);
  return y * 12 + (m - 1);
}

static apex_month_return month_return(int64_t month, double prev_close, double close)
{
  int64_t y = floor_div(month, 12);
  apex_month_return mr = {.year = (int)y, .month = (int)(month - y * 12) + 1};
  mr.return_pct = prev_close > 0 ? (close / prev_close - 1.0) * 100.0 : NAN;
  return mr;
}

apex_metrics_acc *apex_metrics_acc_new(double initial_capital, int periods_per_year)
{
  if (!isfinite(initial_capital) || !(initial_capital > 0) || periods_per_year < 1)
    return NULL;
  apex_metrics_acc *acc = calloc(1, sizeof *acc);
  if (!acc)
    return NULL;
  acc->initial = initial_capital;
  acc->ppy = periods_per_year;
  acc->last_equity = initial_capital;
  acc->prev_day_close = initial_capital;
  acc->prev_month_close = initial_capital;
  acc->peak = initial_capital;
  return acc;
}

void apex_metrics_acc_free(apex_metrics_acc *acc)
{
  if (!acc)
    return;
  free(acc->months);
  free(acc);
}

/* Room for one more closed month; doubling keeps the allocations to O(log months). */
static apex_err reserve_month(apex_metrics_acc *acc)
{
  if (acc->n_months < acc->cap_months)
    return APEX_OK;
  size_t cap = acc->cap_months ? acc->cap_months * 2 : 16;
  if (cap > SIZE_MAX / sizeof *acc->months)
    return APEX_ENOMEM;
  apex_month_return *p = realloc(acc->months, cap * sizeof *p);
  if (!p)
    return APEX_ENOMEM;
  acc->months = p;
  acc->cap_months = cap;
  return APEX_OK;
}

apex_err apex_metrics_acc_bar(apex_metrics_acc *acc, int64_t time_ms, double equity, bool in_market)
{
  if (!acc || !isfinite(equity) || (acc->bars > 0 && time_ms < acc->last_time))
    return APEX_EINVAL;
  int64_t day = floor_div(time_ms, APEX_MS_DAY);
  if (acc->bars == 0) {
    acc->first_time = time_ms;
    acc->peak_time = time_ms;
    acc->day = day;
    acc->month = month_of_day(day);
  } else if (day != acc->day) {
    /* The previous bar was the last of its day: close that day (and its month). */
    int64_t month = month_of_day(day);
    if (month != acc->month) {
      apex_err rc = reserve_month(acc); /* the only failure; nothing has changed yet */
      if (rc)
        return rc;
      acc->months[acc->n_months++] = month_return(acc->month, acc->prev_month_close, acc->last_equity);
      acc->prev_month_close = acc->last_equity;
      acc->month = month;
    }
    stats_add_day(&acc->daily, acc->prev_day_close, acc->last_equity);
    acc->prev_day_close = acc->last_equity;
    acc->day = day;
  }

  bool was_under = acc->bars > 0 && acc->last_equity < acc->peak;
  if (equity >= acc->peak) {
    if (was_under && time_ms - acc->peak_time > acc->max_dd_ms)
      acc->max_dd_ms = time_ms - acc->peak_time;
    acc->peak = equity;
    acc->peak_time = time_ms;
  } else {
    double dd = (acc->peak - equity) / acc->peak * 100.0;
    if (dd > acc->max_dd_pct)
      acc->max_dd_pct = dd;
  }

  acc->bars++;
  if (in_market)
    acc->bars_in_market++;
  acc->last_time = time_ms;
  acc->last_equity = equity;
  return APEX_OK;
}

apex_err apex_metrics_acc_trade(apex_metrics_acc *acc, const apex_metrics_trade *t)
{
  if (!acc || !t || !isfinite(t->net_pnl) || !isfinite(t->entry_notional) || t->entry_notional == 0)
    return APEX_EINVAL;
  /* A short's notional may come signed; the trade's size is its magnitude. */
  double pct = t->net_pnl / fabs(t->entry_notional) * 100.0;
  if (!isfinite(pct))
    return APEX_EINVAL;
  if (acc->trades == 0 || pct > acc->best_pct)
    acc->best_pct = pct;
  if (acc->trades == 0 || pct < acc->worst_pct)
    acc->worst_pct = pct;
  acc->trades++;
  if (t->net_pnl > 0) {
    acc->wins++;
    ksum_add(&acc->gross_profit, t->net_pnl);
  } else if (t->net_pnl < 0) {
    acc->losses++;
    ksum_add(&acc->gross_loss, -t->net_pnl);
  }
  ksum_add(&acc->trade_pct_sum, pct);
  return APEX_OK;
}

apex_err apex_metrics_acc_finish(const apex_metrics_acc *acc, apex_metrics *out)
{
  if (!out)
    return APEX_EINVAL;
  memset(out, 0, sizeof *out);
  if (!acc)
    return APEX_EINVAL;

  if (acc->bars > 0) {
    size_t n = acc->n_months + 1;
    out->monthly = malloc(n * sizeof *out->monthly);
    if (!out->monthly)
      return APEX_ENOMEM;
    if (acc->n_months)
      memcpy(out->monthly, acc->months, acc->n_months * sizeof *out->monthly);
    out->monthly[acc->n_months] = month_return(acc->month, acc->prev_month_close, acc->last_equity);
    out->n_monthly = n;
  }

  double initial = acc->initial, final = acc->last_equity;
  out->initial_capital = initial;
  out->final_equity = final;
  out->bars = acc->bars;
  out->total_return_pct = (final / initial - 1.0) * 100.0;

  int64_t span = acc->bars > 0 ? acc->last_time - acc->first_time : 0;
  if (span >= APEX_MS_DAY && final > 0) {
    double years = (double)span / (365.25 * (double)APEX_MS_DAY);
    out->cagr_pct = (pow(final / initial, 1.0 / years) - 1.0) * 100.0;
  }

  /* The open day counts as closed at the last bar; finish is const, so close it on a copy. */
  ret_stats st = acc->daily;
  if (acc->bars > 0)
    stats_add_day(&st, acc->prev_day_close, acc->last_equity);
  if (st.n >= 2) {
    double annual = sqrt((double)acc->ppy);
    double sd = sqrt(st.m2 / (double)(st.n - 1));
    if (sd > 0)
      out->sharpe_ratio = st.mean / sd * annual;
    double down = sqrt(ksum_value(&st.down_sq) / (double)st.n);
    if (down > 0)
      out->sortino_ratio = st.mean / down * annual;
    else if (st.mean > 0)
      out->sortino_ratio = INFINITY;
  }

  out->max_drawdown_pct = acc->max_dd_pct;
  out->max_drawdown_duration_ms = acc->max_dd_ms;
  if (acc->bars > 0 && acc->last_equity < acc->peak && acc->last_time - acc->peak_time > out->max_drawdown_duration_ms)
    out->max_drawdown_duration_ms = acc->last_time - acc->peak_time;

  out->total_trades = acc->trades;
  out->winning_trades = acc->wins;
  out->losing_trades = acc->losses;
  if (acc->trades > 0) {
    double profit = ksum_value(&acc->gross_profit), loss = ksum_value(&acc->gross_loss);
    out->win_rate_pct = (double)acc->wins / (double)acc->trades * 100.0;
    if (loss > 0)
      out->profit_factor = profit / loss;
    else if (acc->wins > 0)
      out->profit_factor = INFINITY;
    out->avg_trade_pct = ksum_value(&acc->trade_pct_sum) / (double)acc->trades;
    out->best_trade_pct = acc->best_pct;
    out->worst_trade_pct = acc->worst_pct;
  }

  if (acc->bars > 0)
    out->exposure_pct = (double)acc->bars_in_market / (double)acc->bars * 100.0;
  return APEX_OK;
}

void apex_metrics_clear(apex_metrics *m)
{
  if (!m)
    return;
  free(m->monthly);
  m->monthly = NULL;
  m->n_monthly = 0;
}

/* ASCII only, so the answer does not depend on the locale. */
static bool ends_with_ci(const char *s, size_t n, const char *suffix)
{
  size_t k = strlen(suffix);
  if (n < k)
    return false;
  for (size_t i = 0; i < k; i++) {
    char c = s[n - k + i];
    if ((c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c) != suffix[i])
      return false;
  }
  return true;
}

int apex_metrics_periods_per_year(const char *asset)
{
  if (!asset)
    return 252;
  if (strchr(asset, '/')) /* BTC/USDT, and ccxt's BTC/USD:BTC perpetuals */
    return 365;
  /* "BINANCE:BTCUSDT", "NASDAQ:AAPL": the venue prefix says nothing, the symbol after it decides. */
  const char *colon = strrchr(asset, ':');
  const char *sym = colon ? colon + 1 : asset;
  /* ETH-BTC, BTC-USD are pairs; BRK-B, BF-A, BAC-PL are share classes (quote under 3 letters). */
  const char *dash = strrchr(sym, '-');
  if (dash && strlen(dash + 1) >= 3)
    return 365;
  size_t n = strlen(sym);
  if (ends_with_ci(sym, n, "USDT") || ends_with_ci(sym, n, "USDC"))
    return 365;
  return 252;
}
