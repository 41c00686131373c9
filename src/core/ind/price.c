/* price.c - price fields usable wherever an indicator is: open, high, low, close, volume, and the
 * composites hl2 = (high + low) / 2, hlc3 = (high + low + close) / 3, ohlc4 = (open + high + low +
 * close) / 4. No parameters, no warm-up, no state. */
#include "core/ind/ind.h"

static int lookback0(const double *p) { (void)p; return 0; }
static size_t size0(const double *p) { (void)p; return 1; }
static void init0(void *st, const double *p) { (void)st; (void)p; }

static inline double hl2(double h, double l) { return (h + l) / 2; }
static inline double hlc3(double h, double l, double c) { return (h + l + c) / 3; }
static inline double ohlc4(double o, double h, double l, double c) { return (o + h + l + c) / 4; }

#define FIELD(nm, title_, in_, expr_b, expr_i)                                            \
  static void nm##_update(void *st, const apex_bar *b, double *out)                      \
  {                                                                                       \
    (void)st;                                                                             \
    out[0] = (expr_b);                                                                    \
  }                                                                                       \
  static void nm##_batch(const apex_series *s, const double *p, double *const *out)     \
  {                                                                                       \
    (void)p;                                                                              \
    for (size_t i = 0; i < s->n; i++)                                                     \
      out[0][i] = (expr_i);                                                               \
  }                                                                                       \
  const apex_ind_info apex_ind_##nm = {                                                   \
      .name = #nm, .title = title_, .inputs = in_, .n_params = 0, .n_outputs = 1,         \
      .outputs = {#nm}, .lookback = lookback0, .state_size = size0, .init = init0,        \
      .update = nm##_update, .batch = nm##_batch,                                         \
  };

FIELD(open, "Open price", APEX_IN_OPEN, b->open, s->open[i])
FIELD(high, "High price", APEX_IN_HIGH, b->high, s->high[i])
FIELD(low, "Low price", APEX_IN_LOW, b->low, s->low[i])
FIELD(close, "Close price", APEX_IN_CLOSE, b->close, s->close[i])
FIELD(volume, "Volume", APEX_IN_VOLUME, b->volume, s->volume[i])
FIELD(hl2, "Median price (high + low) / 2", APEX_IN_HIGH | APEX_IN_LOW, hl2(b->high, b->low),
      hl2(s->high[i], s->low[i]))
FIELD(hlc3, "Typical price (high + low + close) / 3", APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE,
      hlc3(b->high, b->low, b->close), hlc3(s->high[i], s->low[i], s->close[i]))
FIELD(ohlc4, "Average price (open + high + low + close) / 4",
      APEX_IN_OPEN | APEX_IN_HIGH | APEX_IN_LOW | APEX_IN_CLOSE, ohlc4(b->open, b->high, b->low, b->close),
      ohlc4(s->open[i], s->high[i], s->low[i], s->close[i]))
