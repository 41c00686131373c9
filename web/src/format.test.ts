import { describe, expect, it } from "vitest";
import { date, dateTime, money, num, pct, priceDigits, trend } from "./format";

describe("money", () => {
  it("formats in the user's currency with grouping and 2 decimals", () => {
    expect(money("1234.5", "USD", "en-US")).toBe("$1,234.50");
    expect(money("1234.5", "EUR", "de-DE")).toBe("1.234,50\u00a0€");
    expect(money(-12, "GBP", "en-GB")).toBe("-£12.00");
  });
  it("keeps a decimal string exact, even past a double's precision", () => {
    expect(money("12345678901234567.25", "USD", "en-US")).toBe("$12,345,678,901,234,567.25");
  });
  it("shows small crypto prices with the digits they need", () => {
    expect(money("0.00199398", "USD", "en-US")).toBe("$0.001994");
    expect(priceDigits("0.00000123")).toBe(8);
    expect(priceDigits("1.5")).toBe(2);
  });
  it("a code Intl does not know keeps the number and names the code", () => {
    expect(money("10", "USDT", "en-US")).toBe("10.00 USDT");
  });
  it("missing and malformed values are a dash, never NaN", () => {
    for (const v of [null, undefined, "", "abc", "1e5", Number.NaN]) expect(money(v as never, "USD", "en-US")).toBe("—");
  });
});

describe("numbers and percentages", () => {
  it("quantities keep up to 8 decimals", () => {
    expect(num("538207.44993741", 8, "en-US")).toBe("538,207.44993741");
    expect(num("2.50000000", 8, "en-US")).toBe("2.5");
  });
  it("returns are signed", () => {
    expect(pct(12.345, "en-US")).toBe("+12.35 %");
    expect(pct("-0.5", "en-US")).toBe("-0.50 %");
    expect(pct(0, "en-US")).toBe("0.00 %");
    expect(trend("-0.01")).toBe("down");
    expect(trend(3)).toBe("up");
    expect(trend("0")).toBe("");
  });
});

describe("times in the user's timezone", () => {
  const t = "2024-03-10T07:30:15Z"; // the day US clocks move forward
  it("converts UTC to the zone", () => {
    expect(dateTime(t, "UTC")).toBe("2024-03-10 07:30");
    expect(dateTime(t, "America/New_York")).toBe("2024-03-10 03:30");
    expect(dateTime(t, "Asia/Tokyo", true)).toBe("2024-03-10 16:30:15");
    expect(date("2024-03-10T23:30:00Z", "Europe/Berlin")).toBe("2024-03-11");
  });
  it("an unknown zone falls back to UTC; a bad time is a dash", () => {
    expect(dateTime(t, "Mars/Olympus")).toBe("2024-03-10 07:30");
    expect(dateTime("yesterday", "UTC")).toBe("—");
    expect(dateTime(null)).toBe("—");
  });
});
