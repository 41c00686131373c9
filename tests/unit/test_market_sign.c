/* market/sign.c on the venues' documented test vectors (venues README 1.10 and 2.6): the expected
 * signatures are the documents' text, not this code's output. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "market/sign.h"

/* ref 1.10: the documents' example key pair (no real account). */
#define BN_SECRET "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

/* ref 2.6 */
#define KR_SECRET "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
#define KR_NONCE "1616492376594"
#define KR_PAYLOAD "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
#define KR_PATH "/0/private/AddOrder"
#define KR_SIGN "4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8ndwLUQ=="

static void binance_expect(const char *payload, const char *want)
{
  char sig[65];
  cr_assert_eq(apex_sign_hmac_sha256_hex(BN_SECRET, strlen(BN_SECRET), payload, strlen(payload), sig), APEX_OK);
  cr_expect_str_eq(sig, want, "payload %s", payload);
}

Test(market_sign, binance_vector_1_plain_payload)
{
  binance_expect("symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&"
                 "timestamp=1499827319559",
                 "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71");
}

Test(market_sign, binance_vector_2_percent_encoded_symbol)
{
  binance_expect("symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&"
                 "timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559",
                 "e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3");
}

Test(market_sign, binance_vector_3_query_then_body_without_separator)
{
  const char *query = "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC";
  const char *body = "quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559";
  char total[256];
  snprintf(total, sizeof total, "%s%s", query, body); /* "There is no & between GTC and quantity=1" */
  binance_expect(total, "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77");
}

Test(market_sign, binance_refuses_a_missing_key)
{
  char sig[65] = "x";
  cr_expect_eq(apex_sign_hmac_sha256_hex(BN_SECRET, 0, "a", 1, sig), APEX_EINVAL);
  cr_expect_str_eq(sig, "");
  cr_expect_eq(apex_sign_hmac_sha256_hex(NULL, 4, "a", 1, sig), APEX_EINVAL);
  cr_expect_eq(apex_sign_hmac_sha256_hex(BN_SECRET, 4, NULL, 1, sig), APEX_EINVAL);
  /* An empty message is a message: RFC 4231-style HMAC of "" under the key. */
  cr_expect_eq(apex_sign_hmac_sha256_hex(BN_SECRET, strlen(BN_SECRET), NULL, 0, sig), APEX_OK);
  cr_expect_eq(strlen(sig), 64);
}

Test(market_sign, kraken_documented_vector)
{
  char sig[APEX_SIGN_KRAKEN_MAX];
  apex_error e = {0};
  cr_assert_eq(apex_sign_kraken(KR_SECRET, KR_PATH, KR_NONCE, KR_PAYLOAD, sig, sizeof sig, &e), APEX_OK, "%s", e.msg);
  cr_expect_str_eq(sig, KR_SIGN);
}

Test(market_sign, kraken_refuses_a_secret_that_is_not_base64)
{
  static const char *const BAD[] = {
      "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=", /* length */
      "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huX===", /* 3 pads */
      "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1hu*g==", /* alphabet */
      "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXh==", /* bits */
      "kQH5HW/8p1uGOVjb gWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huX==", /* blank */
      "kQ==HW/8",                                                                                  /* inner pad */
      "-_-_",                                                                                      /* base64url */
  };
  for (size_t i = 0; i < APEX_ARRAY_LEN(BAD); i++) {
    char sig[APEX_SIGN_KRAKEN_MAX] = "x";
    apex_error e = {0};
    cr_expect_eq(apex_sign_kraken(BAD[i], KR_PATH, KR_NONCE, KR_PAYLOAD, sig, sizeof sig, &e), APEX_EPARSE,
                 "case %zu", i);
    cr_expect_str_eq(sig, "", "case %zu", i);
    cr_expect(strstr(e.msg, "is not base64"), "case %zu: %s", i, e.msg);
    cr_expect(!strstr(e.msg, "kQH5"), "case %zu: the message shows the secret: %s", i, e.msg);
  }
}

Test(market_sign, kraken_refuses_bad_arguments)
{
  char sig[APEX_SIGN_KRAKEN_MAX];
  apex_error e = {0};
  cr_expect_eq(apex_sign_kraken("", KR_PATH, KR_NONCE, KR_PAYLOAD, sig, sizeof sig, &e), APEX_EINVAL);
  cr_expect_eq(apex_sign_kraken(KR_SECRET, NULL, KR_NONCE, KR_PAYLOAD, sig, sizeof sig, &e), APEX_EINVAL);
  cr_expect_eq(apex_sign_kraken(KR_SECRET, KR_PATH, KR_NONCE, KR_PAYLOAD, sig, sizeof sig - 1, &e), APEX_ETOOBIG);
  cr_expect(strstr(e.msg, "need 89"), "%s", e.msg);
  cr_expect_str_eq(sig, "");
}
