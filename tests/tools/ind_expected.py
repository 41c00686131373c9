#!/usr/bin/python3
"""Expected values of the hand-computed indicator unit tests (tests/unit/test_ind_*.c), from an
implementation of each textbook definition that shares nothing with src/core/ind: plain Python
floats (IEEE doubles, like the C code) and only the standard library.

    ind_expected.py            prints every case: `file test array: v0, v1, ...` (NAN for warm-up)
    ind_expected.py --check    also reads the `want` arrays out of the C tests and fails (exit 1)
                               unless every value equals the one computed here, bit for bit

The definitions are written as the headers state them (src/core/ind/*.h comments); where two
floating-point orders of the same formula give different last bits, the order used here is named
in a comment, and the C tests compare at 1e-12 relative anyway. ctest runs `--check`
(ind_expected_values), so a test's values and this generator cannot drift apart."""
import math
import os
import re
import sys

NAN = float("nan")
HERE = os.path.dirname(os.path.abspath(__file__))
UNIT = os.path.join(os.path.dirname(HERE), "unit")

# The close series most single-input tests share (X[] in test_ind_ema.c and others).
X = [44.0, 44.5, 43.5, 44.5, 45.0, 46.0, 45.5, 45.0, 46.5, 47.0, 46.0, 48.0]
# Candles of test_ind_plus_di.c / test_ind_minus_di.c.
DI_H = [10.0, 11.0, 10.5, 12.0, 11.0, 13.0, 12.5, 12.0]
DI_L = [9.0, 9.5, 9.0, 10.0, 10.2, 11.0, 11.5, 10.0]
DI_C = [9.5, 10.5, 10.0, 11.5, 10.8, 12.5, 12.0, 10.5]
# Candles of test_ind_sar.c.
SAR_UH = [10.0, 10.5, 11.2, 11.8, 11.5, 10.6, 10.2, 10.9, 11.6, 12.4]
SAR_UL = [9.0, 9.6, 10.1, 10.9, 10.4, 9.8, 9.1, 9.7, 10.5, 11.3]
SAR_SH = [10.0, 9.8, 9.5, 9.9, 10.6, 10.4]
SAR_SL = [9.5, 9.0, 8.7, 9.1, 9.9, 9.6]


def ema(xs, period):
    """k = 2/(period+1); the first value is the SMA of the first `period` defined inputs (NaN before,
    and NaN inputs are warm-up of an upstream EMA), then e = e + k*(x - e)."""
    k = 2.0 / (period + 1)
    out = [NAN] * len(xs)
    first = next((i for i, x in enumerate(xs) if not math.isnan(x)), len(xs))
    seed_at = first + period - 1
    if seed_at >= len(xs):
        return out
    e = sum(xs[first:seed_at + 1]) / period
    out[seed_at] = e
    for i in range(seed_at + 1, len(xs)):
        e = e + k * (xs[i] - e)
        out[i] = e
    return out


def dema(xs, period):
    e1 = ema(xs, period)
    e2 = ema(e1, period)
    return [NAN if math.isnan(b) else 2 * a - b for a, b in zip(e1, e2)]


def tema(xs, period):
    e1 = ema(xs, period)
    e2 = ema(e1, period)
    e3 = ema(e2, period)
    return [NAN if math.isnan(c) else 3 * a - 3 * b + c for a, b, c in zip(e1, e2, e3)]


def wma(xs, period):
    """Weights 1..period, the newest heaviest, over period*(period+1)/2."""
    den = period * (period + 1) / 2
    out = [NAN] * len(xs)
    for i in range(period - 1, len(xs)):
        out[i] = sum((j + 1) * xs[i - period + 1 + j] for j in range(period)) / den
    return out


def rsi(xs, period):
    """Wilder: the mean of the first `period` gains and losses, then avg = (avg*(period-1) + x)/period;
    RSI = 100 * gain / (gain + loss) (0 when both are 0)."""
    out = [NAN] * len(xs)
    if len(xs) <= period:
        return out
    ch = [xs[i] - xs[i - 1] for i in range(1, len(xs))]
    gain = sum(max(c, 0.0) for c in ch[:period]) / period
    loss = sum(max(-c, 0.0) for c in ch[:period]) / period

    def value():
        return 0.0 if gain + loss == 0 else 100 * gain / (gain + loss)

    out[period] = value()
    for i in range(period + 1, len(xs)):
        c = ch[i - 1]
        gain = (gain * (period - 1) + max(c, 0.0)) / period
        loss = (loss * (period - 1) + max(-c, 0.0)) / period
        out[i] = value()
    return out


def macd(xs, fast, slow, signal):
    """Both EMAs first valid at index slow-1, the fast one seeded with the SMA of the `fast` values
    ending there; signal = EMA(signal) of macd; hist = macd - signal."""
    skip = slow - fast
    ef = [NAN] * skip + ema(xs[skip:], fast)
    es = ema(xs, slow)
    m = [NAN if math.isnan(b) else a - b for a, b in zip(ef, es)]
    sig = ema(m, signal)
    m = [NAN if math.isnan(s) else v for v, s in zip(m, sig)]  # every output from the signal's start
    hist = [NAN if math.isnan(s) else v - s for v, s in zip(m, sig)]
    return m, sig, hist


def bbands(xs, period, dev):
    """middle = SMA, sd = population standard deviation of the window, middle +/- dev*sd."""
    up, mid, lo = ([NAN] * len(xs) for _ in range(3))
    for i in range(period - 1, len(xs)):
        w = xs[i - period + 1:i + 1]
        m = sum(w) / period
        sd = math.sqrt(sum((x - m) ** 2 for x in w) / period)
        up[i], mid[i], lo[i] = m + dev * sd, m, m - dev * sd
    return up, mid, lo


def obv(close, vol):
    out, v = [], vol[0]
    out.append(v)
    for i in range(1, len(close)):
        if close[i] > close[i - 1]:
            v += vol[i]
        elif close[i] < close[i - 1]:
            v -= vol[i]
        out.append(v)
    return out


def roc(xs, period):
    """(x / x[-period] - 1) * 100, 0 when x[-period] is 0."""
    return [NAN if i < period else 0.0 if xs[i - period] == 0 else (xs[i] / xs[i - period] - 1) * 100
            for i in range(len(xs))]


def di(h, l, c, period):
    """adx.h: +DM1/-DM1/TR1 per candle; candles 1..period-1 summed; from candle `period` each sum
    becomes x - x/period + today's (Wilder, TA-Lib's order); DI = 100 * DM / TR."""
    plus, minus = [NAN] * len(h), [NAN] * len(h)
    sp = sm = st = 0.0
    for i in range(1, len(h)):
        dp, dm = h[i] - h[i - 1], l[i - 1] - l[i]
        pdm = dp if dp > 0 and dp > dm else 0.0
        mdm = dm if dm > 0 and dp < dm else 0.0
        tr = max(h[i], c[i - 1]) - min(l[i], c[i - 1])
        if i < period:
            sp, sm, st = sp + pdm, sm + mdm, st + tr
            continue
        sp = sp - sp / period + pdm
        sm = sm - sm / period + mdm
        st = st - st / period + tr
        zero = abs(st) < 1e-14
        plus[i] = 0.0 if zero else 100 * (sp / st)
        minus[i] = 0.0 if zero else 100 * (sm / st)
    return plus, minus


def sar(h, l, acc, mx):
    """sar.h (TA-Lib's SAR), transcribed from the header's text."""
    out = [NAN] * len(h)
    dp, dm = h[1] - h[0], l[0] - l[1]
    is_long = not (dm > 0 and dp < dm)
    ep, s = (h[1], l[0]) if is_long else (l[1], h[0])
    af = min(acc, mx)
    for t in range(1, len(h)):
        ph, pl = (h[1], l[1]) if t == 1 else (h[t - 1], l[t - 1])
        nh, nl = h[t], l[t]
        if is_long:
            if nl <= s:
                is_long = False
                s = max(ep, ph, nh)
                out[t] = s
                af, ep = acc, nl
                s = max(s + af * (ep - s), ph, nh)
            else:
                out[t] = s
                if nh > ep:
                    ep, af = nh, min(af + acc, mx)
                s = min(s + af * (ep - s), pl, nl)
        else:
            if nh >= s:
                is_long = True
                s = min(ep, pl, nl)
                out[t] = s
                af, ep = acc, nh
                s = min(s + af * (ep - s), pl, nl)
            else:
                out[t] = s
                if nl < ep:
                    ep, af = nl, min(af + acc, mx)
                s = max(s + af * (ep - s), ph, nh)
    return out


def stochrsi(xs, period, k, d):
    """r = RSI(period); fastk = 100 * (r - min) / (max - min) over the last k RSI values (0 when
    max == min); fastd = SMA(d) of fastk; both outputs from the first fastd."""
    r = rsi(xs, period)
    fk = [NAN] * len(xs)
    for i in range(period + k - 1, len(xs)):
        w = r[i - k + 1:i + 1]
        lo, hi = min(w), max(w)
        fk[i] = 0.0 if hi == lo else 100 * (r[i] - lo) / (hi - lo)
    fd = [NAN] * len(xs)
    start = period + k - 1 + d - 1
    for i in range(start, len(xs)):
        fd[i] = sum(fk[i - d + 1:i + 1]) / d
    fk = [NAN if i < start else v for i, v in enumerate(fk)]
    return fk, fd


def vwap(t_ms, h, l, c, v, anchor_min):
    """Sessions floor(t / (anchor*60000)); sum(hlc3*volume)/sum(volume) within the session, NaN
    while its volume is 0; hlc3 = (h + l + c)/3."""
    out, session, pv, vs = [], None, 0.0, 0.0
    for i in range(len(t_ms)):
        b = t_ms[i] // (anchor_min * 60000)
        if b != session:
            session, pv, vs = b, 0.0, 0.0
        pv += (h[i] + l[i] + c[i]) / 3 * v[i]
        vs += v[i]
        out.append(NAN if vs == 0 else pv / vs)
    return out


def cases():
    """(C file, Test(suite, name), array name in that test, values) for every generated array."""
    up, mid, lo = bbands(X, 4, 2.0)
    m, s, hst = macd(X, 2, 4, 3)
    p3, m3 = di(DI_H, DI_L, DI_C, 3)
    p2, m2 = di(DI_H, DI_L, DI_C, 2)
    fk, fd = stochrsi(X, 3, 4, 2)
    oc = [5.0, 0.0, 2.0, 4.0, 4.0, 1.0, 2.0]
    t0 = 1641599880000  # 2022-01-07 23:58 UTC
    return [
        ("test_ind_ema.c", "ema, hand_computed_batch_and_stream", "want", ema(X, 3)),
        ("test_ind_dema.c", "dema, hand_computed_batch_and_stream", "want", dema(X, 3)),
        ("test_ind_tema.c", "tema, hand_computed_batch_and_stream", "want", tema(X, 3)),
        ("test_ind_wma.c", "wma, hand_computed_batch_and_stream", "want", wma(X, 3)),
        ("test_ind_rsi.c", "rsi, hand_computed_batch_and_stream", "want", rsi(X, 3)),
        ("test_ind_macd.c", "macd, hand_computed_batch_and_stream", "want", m + s + hst),
        ("test_ind_bbands.c", "bbands, hand_computed_batch_and_stream", "want", up + mid + lo),
        ("test_ind_obv.c", "obv, hand_computed_batch_stream_and_registry", "want",
         obv(oc, [100.0, 50.0, 30.0, 40.0, 20.0, 10.0, 5.0])),
        ("test_ind_roc.c", "roc, hand_computed_batch_and_stream_with_zero_base", "want", roc(oc, 2)),
        ("test_ind_plus_di.c", "plus_di, period_3_by_hand", "want", p3),
        ("test_ind_plus_di.c", "plus_di, period_2_by_hand", "want", p2),
        ("test_ind_minus_di.c", "minus_di, period_3_by_hand", "want", m3),
        ("test_ind_minus_di.c", "minus_di, period_2_by_hand", "want", m2),
        ("test_ind_sar.c", "sar, long_start_reverses_to_short_and_back", "want", sar(SAR_UH, SAR_UL, 0.02, 0.2)),
        ("test_ind_sar.c", "sar, acceleration_capped_at_maximum", "want", sar(SAR_UH, SAR_UL, 0.1, 0.25)),
        ("test_ind_sar.c", "sar, short_start", "want", sar(SAR_SH, SAR_SL, 0.02, 0.2)),
        ("test_ind_stochrsi.c", "stochrsi, hand_computed_batch_and_stream", "want_k", fk),
        ("test_ind_stochrsi.c", "stochrsi, hand_computed_batch_and_stream", "want_d", fd),
        ("test_ind_vwap.c", "vwap, daily_session_resets_at_utc_midnight", "want",
         vwap([t0 + i * 60000 for i in range(5)], [10.0, 10.4, 11.0, 11.2, 10.9], [9.0, 9.8, 10.0, 10.6, 10.1],
              [9.6, 10.1, 10.5, 10.8, 10.3], [100.0, 300.0, 0.0, 50.0, 150.0], 1440)),
    ]


def fmt(x):
    return "NAN" if math.isnan(x) else repr(x)


NUMBER = re.compile(r"NAN|[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def values_in_test(path, test, array):
    """The numbers of `array`'s initializer inside Test(test) of a C file (nested braces flattened)."""
    with open(path) as f:
        src = f.read()
    t = re.search(r"^Test\(" + re.escape(test) + r"\)", src, re.M)
    if not t:
        raise LookupError(f"{path}: no Test({test})")
    end = src.find("\nTest(", t.end())
    body = src[t.end():end if end >= 0 else len(src)]
    a = re.search(r"\b" + re.escape(array) + r"\s*(?:\[[^\]]*\]\s*)+=\s*\{", body)
    if not a:
        raise LookupError(f"{path}: no array {array} in Test({test})")
    init = body[a.end() - 1:body.index("};", a.end()) + 1]
    return [NAN if tok == "NAN" else float(tok) for tok in NUMBER.findall(init)]


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


def main(argv):
    check = "--check" in argv
    bad = 0
    for cfile, test, array, want in cases():
        print(f"{cfile} {test} {array}: " + ", ".join(fmt(x) for x in want))
        if not check:
            continue
        got = values_in_test(os.path.join(UNIT, cfile), test, array)
        if len(got) != len(want):
            print(f"  MISMATCH: the test has {len(got)} values, the generator {len(want)}")
            bad += 1
            continue
        for i, (g, w) in enumerate(zip(got, want)):
            if not same(g, w):
                print(f"  MISMATCH row {i}: test has {fmt(g)}, generator gives {fmt(w)}")
                bad += 1
    if check:
        print(f"{len(cases())} arrays checked, {bad} mismatches")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
