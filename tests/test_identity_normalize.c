/*
 * Check suite for the identifier normalisers (src/identity/normalize*.c)
 * and crm_identity_normalize: real variants of each kind of identifier and
 * what they must become, rejections with their status, invalid UTF-8,
 * buffer limits, NULL arguments and placeholders.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "crm/identity.h"
#include "identity/normalize.h"
#include "test_util.h"

/* One input and what the normaliser must give for it. */
typedef struct norm_case {
    const char *raw;
    crm_status status;
    const char *want; /* when status is CRM_OK */
} norm_case;

#define OK(raw, want) {raw, CRM_OK, want}
#define BAD(raw) {raw, CRM_EINVAL, NULL}

/* Normalising a normalised value gives it back. */
static void check_idempotent(crm_identity_normalizer normalizer,
                             unsigned flags, const char *value, size_t len)
{
    char again[CRM_IDENTITY_MAX_VALUE];
    size_t again_len = 0;
    crm_status st;

    st = crm_normalize_value(normalizer, flags, value, len, again,
                             sizeof again, &again_len, NULL);
    ck_assert_msg(st == CRM_OK && again_len == len &&
                      memcmp(again, value, len) == 0,
                  "normaliser %d: \"%.*s\" is not stable", (int)normalizer,
                  (int)len, value);
}

static void check_case(crm_identity_normalizer normalizer, unsigned flags,
                       const norm_case *c)
{
    char out[CRM_IDENTITY_MAX_VALUE];
    size_t out_len = 12345;
    const char *reason = NULL;
    crm_status st;

    memset(out, '#', sizeof out);
    st = crm_normalize_value(normalizer, flags, c->raw, strlen(c->raw), out,
                             sizeof out, &out_len, &reason);
    ck_assert_msg(st == c->status,
                  "normaliser %d, \"%s\": status %d (%s), want %d",
                  (int)normalizer, c->raw, (int)st, reason ? reason : "",
                  (int)c->status);
    if (st != CRM_OK) {
        ck_assert_msg(reason && reason[0] != '\0', "\"%s\": no reason",
                      c->raw);
        ck_assert_uint_eq(out_len, 12345);
        ck_assert_int_eq(out[0], '#');
        return;
    }
    ck_assert_msg(out_len == strlen(c->want) &&
                      memcmp(out, c->want, out_len) == 0,
                  "normaliser %d, \"%s\": got \"%.*s\", want \"%s\"",
                  (int)normalizer, c->raw, (int)out_len, out, c->want);
    check_idempotent(normalizer, flags, out, out_len);
}

static void check_cases(crm_identity_normalizer normalizer, unsigned flags,
                        const norm_case *cases, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        check_case(normalizer, flags, &cases[i]);
}

#define CHECK_CASES(normalizer, flags, cases) \
    check_cases(normalizer, flags, cases, sizeof cases / sizeof cases[0])

/* ---- EXACT and ICASE --------------------------------------------------- */

static const norm_case exact_cases[] = {
    OK("M-0001", "M-0001"),
    OK("  M-0001\t\r\n", "M-0001"),
    OK("\v\fM-0001 ", "M-0001"),
    OK("　M-0001　", "M-0001"),
    OK(" 　 M-0001 　 ", "M-0001"),
    OK("Abc Def", "Abc Def"),
    OK("U　V", "U　V"),
    OK("", ""),
    OK("   ", ""),
    OK("　 　", ""),
    OK("山田", "山田"),
    OK("Ｕ１２３", "Ｕ１２３"),
    OK("LINE:U4af4980629abc", "LINE:U4af4980629abc"),
    OK("\xC2\xA0x\xC2\xA0", "\xC2\xA0x\xC2\xA0"), /* NBSP is not trimmed */
    OK("😀", "😀"),
};

static const norm_case icase_cases[] = {
    OK("LINE-U123ABC", "line-u123abc"),
    OK("  AbÉ ", "abÉ"),
    OK("　XyZ", "xyz"),
    OK("POS-CARD-0042", "pos-card-0042"),
    OK("Ｕ１２３", "Ｕ１２３"),
    OK("", ""),
};

START_TEST(test_exact_and_icase)
{
    CHECK_CASES(CRM_NORMALIZE_EXACT, 0, exact_cases);
    CHECK_CASES(CRM_NORMALIZE_ICASE, 0, icase_cases);
}
END_TEST

/* ---- email ------------------------------------------------------------- */

static const norm_case email_cases[] = {
    OK("Taro.Yamada@Example.COM", "taro.yamada@example.com"),
    OK("HANAKO@SHOP.CO.JP", "hanako@shop.co.jp"),
    OK("  hanako@shop.co.jp  ", "hanako@shop.co.jp"),
    OK("\t hanako@shop.co.jp\r\n", "hanako@shop.co.jp"),
    OK("　hanako@shop.co.jp　", "hanako@shop.co.jp"),
    OK("ｈａｎａｋｏ＠ｓｈｏｐ．ｃｏ．ｊｐ", "hanako@shop.co.jp"),
    OK("ＨＡＮＡＫＯ＠ＳＨＯＰ．ＣＯ．ＪＰ", "hanako@shop.co.jp"),
    OK("hanako＠shop.co.jp", "hanako@shop.co.jp"),
    OK("hanako@shop。co。jp", "hanako@shop.co.jp"),
    OK("hanako@shop｡co｡jp", "hanako@shop.co.jp"),
    OK("hana。ko@shop.co.jp", "hana.ko@shop.co.jp"),
    OK("ｔａｒｏ＿ｙ－１＠ｍａｉｌ．ｊｐ", "taro_y-1@mail.jp"),
    OK("a..b@docomo.ne.jp", "a..b@docomo.ne.jp"),
    OK("x.@ezweb.ne.jp", "x.@ezweb.ne.jp"),
    OK("X..Y.@EZweb.ne.jp", "x..y.@ezweb.ne.jp"),
    OK(".abc@softbank.ne.jp", ".abc@softbank.ne.jp"),
    OK("abc.@i.softbank.jp", "abc.@i.softbank.jp"),
    OK("taro+news@gmail.com", "taro+news@gmail.com"),
    OK("taro.y+news@outlook.jp", "taro.y+news@outlook.jp"),
    OK("taro_yamada-1@mail.shop-x.jp", "taro_yamada-1@mail.shop-x.jp"),
    OK("o'brien@example.ie", "o'brien@example.ie"),
    OK("user@sub.domain.co.jp", "user@sub.domain.co.jp"),
    OK("a@b.cd", "a@b.cd"),
    OK("1234@123.jp", "1234@123.jp"),
    OK("山田@例え.jp", "山田@例え.jp"),
    OK("user@xn--eckwd4c7c.xn--zckzah", "user@xn--eckwd4c7c.xn--zckzah"),
    OK("A!#$%&*/=?^`{|}~@x.jp", "a!#$%&*/=?^`{|}~@x.jp"),
    BAD(""),
    BAD("   "),
    BAD("taro.yamada.example.com"),
    BAD("taro@@x.com"),
    BAD("taro@x@y.com"),
    BAD("taro@x.com,hanako@y.com"),
    BAD("taro＠hanako@x.com"),
    BAD("@x.com"),
    BAD("＠x.com"),
    BAD("taro@"),
    BAD("taro@localhost"),
    BAD("taro@x"),
    BAD("ta ro@x.com"),
    BAD("taro@x .com"),
    BAD("taro　yamada@x.com"),
    BAD("taro\t@x.com"),
    BAD("taro\xC2\xA0@x.com"),
    BAD("\xEF\xBB\xBFtaro@x.com"),
    BAD("taro\xE2\x80\x8B@x.com"),
    BAD("taro@x..com"),
    BAD("taro@.x.com"),
    BAD("taro@x.com."),
    BAD("taro@-x.com"),
    BAD("taro@x-.com"),
    BAD("taro@x.-com"),
    BAD("taro@x.com-"),
    BAD("taro@x_y.com"),
    BAD("taro@x!.com"),
    BAD("taro@[192.168.0.1]"),
    BAD("taro\x01@x.com"),
    BAD("taro\x7F@x.com"),
    BAD("\xC2\x85taro@x.com"),
    BAD("<taro@x.com>"),
    BAD("\"taro\"@x.com"),
    BAD("taro(home)@x.com"),
    BAD("taro;x@x.com"),
    BAD("Taro Yamada <taro@x.com>"),
    BAD("mailto:taro@x.com"),
};

static const norm_case email_provider_cases[] = {
    OK("Taro.Yamada+shop@GoogleMail.com", "taroyamada@gmail.com"),
    OK("taro.yamada@gmail.com", "taroyamada@gmail.com"),
    OK("t.a.r.o@gmail.com", "taro@gmail.com"),
    OK("taro+a+b@gmail.com", "taro@gmail.com"),
    OK("taro@googlemail.com", "taro@gmail.com"),
    OK("ｔａｒｏ．ｙ＋ｘ＠ｇｍａｉｌ．ｃｏｍ", "taroy@gmail.com"),
    OK("+x@gmail.com", "+x@gmail.com"),
    OK("...@gmail.com", "...@gmail.com"),
    OK("taro.y+news@outlook.jp", "taro.y@outlook.jp"),
    OK("taro.y+news@outlook.com", "taro.y@outlook.com"),
    OK("taro+x@hotmail.co.jp", "taro@hotmail.co.jp"),
    OK("taro+x@hotmail.com", "taro@hotmail.com"),
    OK("taro+x@live.jp", "taro@live.jp"),
    OK("taro+x@live.com", "taro@live.com"),
    OK("taro.y+x@icloud.com", "taro.y@icloud.com"),
    OK("taro.y+x@yahoo.co.jp", "taro.y+x@yahoo.co.jp"),
    OK("taro+x@docomo.ne.jp", "taro+x@docomo.ne.jp"),
    OK("a..b@docomo.ne.jp", "a..b@docomo.ne.jp"),
    OK("taro.y+x@mail.gmail.com", "taro.y+x@mail.gmail.com"),
    OK("taro.y+x@gmail.co.jp", "taro.y+x@gmail.co.jp"),
    BAD("taro@gmail"),
    BAD("taro+x@"),
};

START_TEST(test_email)
{
    CHECK_CASES(CRM_NORMALIZE_EMAIL, 0, email_cases);
    CHECK_CASES(CRM_NORMALIZE_EMAIL, CRM_NORMALIZE_FOLD_PROVIDER,
                email_provider_cases);
}
END_TEST

/* ---- phone ------------------------------------------------------------- */

#define MOBILE "+819012345678"

static const norm_case phone_cases[] = {
    /* one mobile number, typed every way people type it */
    OK("090-1234-5678", MOBILE),
    OK("09012345678", MOBILE),
    OK("090 1234 5678", MOBILE),
    OK("090.1234.5678", MOBILE),
    OK("(090)1234-5678", MOBILE),
    OK("090(1234)5678", MOBILE),
    OK("[090]1234-5678", MOBILE),
    OK("（090）1234-5678", MOBILE),
    OK("０９０－１２３４－５６７８", MOBILE),
    OK("０９０ー１２３４ー５６７８", MOBILE),
    OK("０９０１２３４５６７８", MOBILE),
    OK("090‐1234‐5678", MOBILE),  /* U+2010 */
    OK("090‑1234‑5678", MOBILE),  /* U+2011 */
    OK("090‒1234‒5678", MOBILE),  /* U+2012 */
    OK("090–1234–5678", MOBILE),  /* U+2013 */
    OK("090—1234—5678", MOBILE),  /* U+2014 */
    OK("090―1234―5678", MOBILE),  /* U+2015 */
    OK("090−1234−5678", MOBILE),  /* U+2212 */
    OK("090ー1234ー5678", MOBILE), /* U+30FC */
    OK("090ｰ1234ｰ5678", MOBILE),  /* U+FF70 */
    OK("090﹣1234﹣5678", MOBILE),  /* U+FE63 */
    OK("090－1234－5678", MOBILE), /* U+FF0D */
    OK("090．1234．5678", MOBILE),
    OK("　090 1234 5678　", MOBILE),
    OK("090　1234　5678", MOBILE),
    OK("+81 90-1234-5678", MOBILE),
    OK("+81-90-1234-5678", MOBILE),
    OK("+81 (0)90-1234-5678", MOBILE),
    OK("+81(0)9012345678", MOBILE),
    OK("+81 090 1234 5678", MOBILE),
    OK("+819012345678", MOBILE),
    OK("＋８１ ９０ １２３４ ５６７８", MOBILE),
    OK("0081-90-1234-5678", MOBILE),
    OK("0081 90 1234 5678", MOBILE),
    OK("01081-90-1234-5678", MOBILE),
    OK("010-81-90-1234-5678", MOBILE),
    /* other services */
    OK("080-1234-5678", "+818012345678"),
    OK("070-1234-5678", "+817012345678"),
    OK("060-1234-5678", "+816012345678"),
    OK("050-1234-5678", "+815012345678"),
    OK("020-1234-5678", "+812012345678"),
    OK("0120-123-456", "+81120123456"),
    OK("0120-12-3456", "+81120123456"),
    OK("０１２０－１２３－４５６", "+81120123456"),
    OK("0800-123-4567", "+818001234567"),
    OK("0570-123-456", "+81570123456"),
    /* landlines: area codes of one to four digits */
    OK("03-1234-5678", "+81312345678"),
    OK("(03)1234-5678", "+81312345678"),
    OK("03(1234)5678", "+81312345678"),
    OK("０３－１２３４－５６７８", "+81312345678"),
    OK("+81 3 1234 5678", "+81312345678"),
    OK("+81-(0)3-1234-5678", "+81312345678"),
    OK("06-6123-4567", "+81661234567"),
    OK("045-123-4567", "+81451234567"),
    OK("011-123-4567", "+81111234567"),
    OK("0466-12-3456", "+81466123456"),
    OK("01267-2-3456", "+81126723456"),
    OK("0123456789", "+81123456789"), /* valid shape; a placeholder */
    /* other countries */
    OK("+1 (415) 555-2671", "+14155552671"),
    OK("+1-415-555-2671", "+14155552671"),
    OK("001-1-415-555-2671", "+114155552671"),
    OK("0014155552671", "+14155552671"),
    OK("010-1-415-555-2671", "+14155552671"),
    OK("+44 20 7946 0958", "+442079460958"),
    OK("+82 10-1234-5678", "+821012345678"),
    OK("+86 138 0013 8000", "+8613800138000"),
    OK("+886 912 345 678", "+886912345678"),
    OK("+65 6123 4567", "+6561234567"),
    OK("+1 2345678", "+12345678"),
    OK("+123456789012345", "+123456789012345"),
    /* wrong lengths */
    BAD("090-1234-567"),
    BAD("090-1234-56789"),
    BAD("080-123-4567"),
    BAD("03-1234-567"),
    BAD("03-1234-56789"),
    BAD("050-1234-567"),
    BAD("0120-123-4567"),
    BAD("0120-12-345"),
    BAD("0800-123-456"),
    BAD("+81 90-1234-567"),
    BAD("+1 23456"),
    BAD("+1234567890123456"),
    /* placeholders */
    BAD("0000000000"),
    BAD("00000000000"),
    BAD("09000000000"),
    BAD("090-0000-0000"),
    BAD("080-1111-1111"),
    BAD("０９０－００００－００００"),
    BAD("03-0000-0000"),
    BAD("06-1111-1111"),
    BAD("0120-000-000"),
    BAD("1111111111"),
    BAD("+81 90 0000 0000"),
    BAD("+11111111"),
    /* no number */
    BAD(""),
    BAD("   "),
    BAD("-"),
    BAD("なし"),
    BAD("+"),
    BAD("+81"),
    BAD("+81 0"),
    BAD("0"),
    BAD("00"),
    BAD("010"),
    /* not a Japanese or international number */
    BAD("1234-5678"),
    BAD("12345678901"),
    BAD("+0 123456789"),
    BAD("+0081 90 1234 5678"),
    BAD("0001234567"),
    BAD("+81 00 1234 5678"),
    /* other characters */
    BAD("tel:090-1234-5678"),
    BAD("090-1234-5678 ext. 12"),
    BAD("090-1234-5678#"),
    BAD("090-1234-5678/090-8765-4321"),
    BAD("++81 90 1234 5678"),
    BAD("090+1234+5678"),
    BAD("〇九〇一二三四五六七八"),
    BAD("090-1234-5678 (携帯)"),
    BAD("123456789012345678901234567890"),
};

START_TEST(test_phone)
{
    CHECK_CASES(CRM_NORMALIZE_PHONE_JP, 0, phone_cases);
}
END_TEST

/* ---- postal ------------------------------------------------------------ */

static const norm_case postal_cases[] = {
    OK("100-0001", "1000001"),
    OK("1000001", "1000001"),
    OK("〒100-0001", "1000001"),
    OK("〒 100-0001", "1000001"),
    OK("〒１００－０００１", "1000001"),
    OK("１００ー０００１", "1000001"),
    OK("１０００００１", "1000001"),
    OK("100‐0001", "1000001"),
    OK("100−0001", "1000001"),
    OK("100―0001", "1000001"),
    OK("100ｰ0001", "1000001"),
    OK("100 0001", "1000001"),
    OK("100　0001", "1000001"),
    OK("　〒100-0001　", "1000001"),
    OK("〶100-0001", "1000001"),
    OK("060-0042", "0600042"),
    OK("907-1801", "9071801"),
    OK("000-0000", "0000000"), /* valid shape; a placeholder */
    BAD("100-001"),
    BAD("100-00011"),
    BAD("１００－０００"),
    BAD("〒"),
    BAD(""),
    BAD("100-0001 東京都千代田区"),
    BAD("ABC-DEFG"),
    BAD("100/0001"),
    BAD("100.0001"),
    BAD("+1000001"),
    BAD("一〇〇-〇〇〇一"),
};

START_TEST(test_postal)
{
    CHECK_CASES(CRM_NORMALIZE_POSTAL_JP, 0, postal_cases);
}
END_TEST

/* ---- Japanese names ---------------------------------------------------- */

static const norm_case name_cases[] = {
    /* spaces and middle dots */
    OK("山田 太郎", "山田太郎"),
    OK("山田　太郎", "山田太郎"),
    OK("　山田　太郎　", "山田太郎"),
    OK("山田\t太郎", "山田太郎"),
    OK("山田\xC2\xA0太郎", "山田太郎"),
    OK("ジョン・スミス", "ジョンスミス"),
    OK("ｼﾞｮﾝ･ｽﾐｽ", "ジョンスミス"),
    /* half-width katakana, voiced marks composed */
    OK("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ"),
    OK("ﾔﾏﾀﾞﾀﾛｳ", "ヤマダタロウ"),
    OK("ヤマダ　タロウ", "ヤマダタロウ"),
    OK("ｶﾞｷﾞｸﾞｹﾞｺﾞ", "ガギグゲゴ"),
    OK("ｻﾞｼﾞｽﾞｾﾞｿﾞ", "ザジズゼゾ"),
    OK("ﾀﾞﾁﾞﾂﾞﾃﾞﾄﾞ", "ダヂヅデド"),
    OK("ﾊﾞﾋﾞﾌﾞﾍﾞﾎﾞ", "バビブベボ"),
    OK("ﾊﾟﾋﾟﾌﾟﾍﾟﾎﾟ", "パピプペポ"),
    OK("ｳﾞｧｲｵﾘﾝ", "ヴァイオリン"),
    OK("ｷｬｯﾄ", "キャット"),
    OK("ｺｰﾋｰ", "コーヒー"),
    OK("ﾜｦﾝ", "ワヲン"),
    OK("ｧｨｩｪｫｬｭｮｯ", "ァィゥェォャュョッ"),
    OK("ﾏﾞ", "マ\xE3\x82\x99"),
    OK("ﾞ", "\xE3\x82\x99"),
    OK("カﾞ", "ガ"),
    OK("ｶ ﾞ", "ガ"),
    /* combining and spacing sound marks */
    OK("カ\xE3\x82\x99", "ガ"),
    OK("ハ\xE3\x82\x9A", "パ"),
    OK("か\xE3\x82\x99", "が"),
    OK("は\xE3\x82\x9A", "ぱ"),
    OK("ウ\xE3\x82\x99", "ヴ"),
    OK("う\xE3\x82\x99", "ゔ"),
    OK("ワ\xE3\x82\x99", "ヷ"),
    OK("ヽ\xE3\x82\x99", "ヾ"),
    OK("カ゛", "ガ"),
    OK("ハ゜", "パ"),
    OK("か゛", "が"),
    OK("ア\xE3\x82\x99", "ア\xE3\x82\x99"),
    OK("カ\xE3\x82\x9A", "カ\xE3\x82\x9A"),
    OK("わ\xE3\x82\x99", "わ\xE3\x82\x99"),
    OK("ガ\xE3\x82\x99", "ガ\xE3\x82\x99"),
    OK("山゛", "山\xE3\x82\x99"),
    OK("\xE3\x82\x99", "\xE3\x82\x99"),
    /* full-width ASCII and case */
    OK("ＴＡＲＯ　ＹＡＭＡＤＡ", "taroyamada"),
    OK("Taro Yamada", "taroyamada"),
    OK("John O'Brien", "johno'brien"),
    OK("Ｍａｒｙ－Ａｎｎ", "mary-ann"),
    /* variant kanji */
    OK("髙橋", "高橋"),
    OK("山﨑", "山崎"),
    OK("山嵜", "山崎"),
    OK("齋藤", "斉藤"),
    OK("齊藤", "斉藤"),
    OK("斎藤", "斉藤"),
    OK("渡邊", "渡辺"),
    OK("渡邉", "渡辺"),
    OK("濱田", "浜田"),
    OK("澤田", "沢田"),
    OK("廣瀬", "広瀬"),
    OK("國分", "国分"),
    OK("德川", "徳川"),
    OK("眞鍋", "真鍋"),
    OK("冨田", "富田"),
    OK("櫻井", "桜井"),
    OK("龍馬", "竜馬"),
    OK("槇原", "槙原"),
    OK("𠮷田", "吉田"),
    OK("嶋田", "島田"),
    OK("髙﨑　眞", "高崎真"),
    OK("\xEF\xA8\x90本", "塚本"),   /* U+FA10 */
    OK("\xEF\xA9\x8F介", "祐介"),   /* U+FA4F */
    OK("\xEF\xA9\xAD", "館"),       /* U+FA6D, via 舘 */
    OK("高橋", "高橋"),
    /* hiragana kept without the flag */
    OK("やまだ たろう", "やまだたろう"),
    OK("", ""),
    OK("　 ・ ", ""),
};

static const norm_case name_kana_cases[] = {
    OK("やまだ たろう", "ヤマダタロウ"),
    OK("ヤマダ タロウ", "ヤマダタロウ"),
    OK("ﾔﾏﾀﾞ ﾀﾛｳ", "ヤマダタロウ"),
    OK("さとう ﾊﾅｺ", "サトウハナコ"),
    OK("は\xE3\x82\x9A", "パ"),
    OK("か゛", "ガ"),
    OK("ゔぁいおりん", "ヴァイオリン"),
    OK("ぁぃぅぇぉっゃゅょゎゕゖ", "ァィゥェォッャュョヮヵヶ"),
    OK("いすゞ", "イスヾ"),
    OK("ゝ\xE3\x82\x99", "ヾ"),
    OK("わ\xE3\x82\x99", "ヷ"),
    OK("齋藤 ゆうこ", "斉藤ユウコ"),
    OK("ｻｲﾄｳ ﾕｳｺ", "サイトウユウコ"),
    OK("Yuko", "yuko"),
};

START_TEST(test_name)
{
    CHECK_CASES(CRM_NORMALIZE_NAME_JA, 0, name_cases);
    CHECK_CASES(CRM_NORMALIZE_NAME_JA, CRM_NORMALIZE_FOLD_KANA,
                name_kana_cases);
}
END_TEST

/* ---- reasons ----------------------------------------------------------- */

START_TEST(test_reasons_name_the_problem)
{
    static const struct {
        crm_identity_normalizer normalizer;
        const char *raw;
        const char *reason_part;
    } cases[] = {
        {CRM_NORMALIZE_EMAIL, "", "empty"},
        {CRM_NORMALIZE_EMAIL, "taro.shop.jp", "no '@'"},
        {CRM_NORMALIZE_EMAIL, "a@b@c.jp", "more than one '@'"},
        {CRM_NORMALIZE_EMAIL, "@shop.jp", "local part"},
        {CRM_NORMALIZE_EMAIL, "taro@", "domain (after '@') is empty"},
        {CRM_NORMALIZE_EMAIL, "taro@shop", "no dot"},
        {CRM_NORMALIZE_EMAIL, "taro@shop..jp", "empty label"},
        {CRM_NORMALIZE_EMAIL, "taro@shop-.jp", "'-'"},
        {CRM_NORMALIZE_EMAIL, "ta ro@shop.jp", "space"},
        {CRM_NORMALIZE_EMAIL, "ta\x02ro@shop.jp", "control"},
        {CRM_NORMALIZE_PHONE_JP, "090-1234-567", "11 digits"},
        {CRM_NORMALIZE_PHONE_JP, "03-1234-567", "10 digits"},
        {CRM_NORMALIZE_PHONE_JP, "050-1234-567", "050"},
        {CRM_NORMALIZE_PHONE_JP, "0120-123-4567", "0120"},
        {CRM_NORMALIZE_PHONE_JP, "0800-123-456", "0800"},
        {CRM_NORMALIZE_PHONE_JP, "090-0000-0000", "placeholder"},
        {CRM_NORMALIZE_PHONE_JP, "0000000000", "placeholder"},
        {CRM_NORMALIZE_PHONE_JP, "+1 23", "7 to 15 digits"},
        {CRM_NORMALIZE_PHONE_JP, "12345678", "must start with 0"},
        {CRM_NORMALIZE_PHONE_JP, "090-1234-5678 内線", "character"},
        {CRM_NORMALIZE_PHONE_JP, "", "no digits"},
        {CRM_NORMALIZE_POSTAL_JP, "100-001", "7 digits"},
        {CRM_NORMALIZE_POSTAL_JP, "東京都", "character"},
    };
    char out[64];
    size_t i, out_len;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *reason = NULL;

        ck_assert_int_eq(crm_normalize_value(cases[i].normalizer, 0,
                                             cases[i].raw,
                                             strlen(cases[i].raw), out,
                                             sizeof out, &out_len, &reason),
                         CRM_EINVAL);
        ck_assert_msg(reason && strstr(reason, cases[i].reason_part),
                      "\"%s\": reason \"%s\" does not say \"%s\"",
                      cases[i].raw, reason ? reason : "(null)",
                      cases[i].reason_part);
    }
}
END_TEST

/* Every kana with a precomposed voiced (U+3099) or semi-voiced (U+309A)
 * form: the canonical compositions of the Unicode Character Database. */
static const uint32_t kana_compositions[][3] = {
    {0x3046, 0x3099, 0x3094}, {0x304B, 0x3099, 0x304C}, {0x304D, 0x3099, 0x304E},
    {0x304F, 0x3099, 0x3050}, {0x3051, 0x3099, 0x3052}, {0x3053, 0x3099, 0x3054},
    {0x3055, 0x3099, 0x3056}, {0x3057, 0x3099, 0x3058}, {0x3059, 0x3099, 0x305A},
    {0x305B, 0x3099, 0x305C}, {0x305D, 0x3099, 0x305E}, {0x305F, 0x3099, 0x3060},
    {0x3061, 0x3099, 0x3062}, {0x3064, 0x3099, 0x3065}, {0x3066, 0x3099, 0x3067},
    {0x3068, 0x3099, 0x3069}, {0x306F, 0x3099, 0x3070}, {0x306F, 0x309A, 0x3071},
    {0x3072, 0x3099, 0x3073}, {0x3072, 0x309A, 0x3074}, {0x3075, 0x3099, 0x3076},
    {0x3075, 0x309A, 0x3077}, {0x3078, 0x3099, 0x3079}, {0x3078, 0x309A, 0x307A},
    {0x307B, 0x3099, 0x307C}, {0x307B, 0x309A, 0x307D}, {0x309D, 0x3099, 0x309E},
    {0x30A6, 0x3099, 0x30F4}, {0x30AB, 0x3099, 0x30AC}, {0x30AD, 0x3099, 0x30AE},
    {0x30AF, 0x3099, 0x30B0}, {0x30B1, 0x3099, 0x30B2}, {0x30B3, 0x3099, 0x30B4},
    {0x30B5, 0x3099, 0x30B6}, {0x30B7, 0x3099, 0x30B8}, {0x30B9, 0x3099, 0x30BA},
    {0x30BB, 0x3099, 0x30BC}, {0x30BD, 0x3099, 0x30BE}, {0x30BF, 0x3099, 0x30C0},
    {0x30C1, 0x3099, 0x30C2}, {0x30C4, 0x3099, 0x30C5}, {0x30C6, 0x3099, 0x30C7},
    {0x30C8, 0x3099, 0x30C9}, {0x30CF, 0x3099, 0x30D0}, {0x30CF, 0x309A, 0x30D1},
    {0x30D2, 0x3099, 0x30D3}, {0x30D2, 0x309A, 0x30D4}, {0x30D5, 0x3099, 0x30D6},
    {0x30D5, 0x309A, 0x30D7}, {0x30D8, 0x3099, 0x30D9}, {0x30D8, 0x309A, 0x30DA},
    {0x30DB, 0x3099, 0x30DC}, {0x30DB, 0x309A, 0x30DD}, {0x30EF, 0x3099, 0x30F7},
    {0x30F0, 0x3099, 0x30F8}, {0x30F1, 0x3099, 0x30F9}, {0x30F2, 0x3099, 0x30FA},
    {0x30FD, 0x3099, 0x30FE},
};

static uint32_t composition_of(uint32_t kana, uint32_t mark)
{
    size_t i;

    for (i = 0; i < sizeof kana_compositions / sizeof kana_compositions[0];
         i++) {
        if (kana_compositions[i][0] == kana && kana_compositions[i][1] == mark)
            return kana_compositions[i][2];
    }
    return 0;
}

/* Each kana followed by each combining mark composes exactly when Unicode
 * has a precomposed character, and is left alone otherwise. */
START_TEST(test_every_kana_with_every_mark)
{
    static const uint32_t marks[] = {0x3099, 0x309A};
    uint32_t kana;
    size_t m;

    for (kana = 0x3041; kana <= 0x30FE; kana++) {
        if (kana >= 0x3097 && kana <= 0x30A0)
            continue; /* unassigned, the marks themselves, ゟ and ゠ */
        if (kana == 0x30FB || kana == 0x30FF)
            continue; /* ・ is dropped; ヿ */
        for (m = 0; m < 2; m++) {
            uint32_t composed = composition_of(kana, marks[m]);
            char raw[8], want[8], out[16];
            size_t n = crm_utf8_encode(kana, raw), want_len, out_len;

            n += crm_utf8_encode(marks[m], raw + n);
            if (composed != 0) {
                want_len = crm_utf8_encode(composed, want);
            } else {
                memcpy(want, raw, n);
                want_len = n;
            }
            ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_NAME_JA, 0,
                                                 raw, n, out, sizeof out,
                                                 &out_len, NULL),
                             CRM_OK);
            ck_assert_msg(out_len == want_len &&
                              memcmp(out, want, want_len) == 0,
                          "U+%04X U+%04X", (unsigned)kana,
                          (unsigned)marks[m]);
        }
    }
}
END_TEST

/* ---- invalid UTF-8 ----------------------------------------------------- */

static const char *const bad_utf8[] = {
    "\xC0\xAF",         /* overlong '/' */
    "\xC1\xBF",         /* overlong */
    "\xE0\x80\xAF",     /* overlong, three bytes */
    "\xF0\x80\x80\xAF", /* overlong, four bytes */
    "\xED\xA0\x80",     /* surrogate U+D800 */
    "\xED\xBF\xBF",     /* surrogate U+DFFF */
    "\xF4\x90\x80\x80", /* above U+10FFFF */
    "\xE3\x81",         /* truncated */
    "\xF0\x9F\x98",     /* truncated */
    "\xE3",             /* lead byte alone */
    "\x80",             /* continuation alone */
    "\xFF",
    "\xFE",
    "\xE3\x80",         /* truncated U+3000 (not trimmed) */
};

/* A valid value of each normaliser to embed the bad bytes in. */
static const char *const valid_values[] = {
    "M-0001",        "Line-U1",   "taro@example.co.jp",
    "090-1234-5678", "山田 太郎", "100-0001",
};

/* bad alone, inside value, after it, and between spaces: CRM_EUTF8. */
static void check_bad_utf8(crm_identity_normalizer normalizer,
                           const char *value, const char *bad)
{
    char forms[4][64], out[256];
    size_t half = strlen(value) / 2, out_len = 0, i;
    const char *reason;

    snprintf(forms[0], sizeof forms[0], "%s", bad);
    snprintf(forms[1], sizeof forms[1], "%.*s%s%s", (int)half, value, bad,
             value + half);
    snprintf(forms[2], sizeof forms[2], "%s%s", value, bad);
    snprintf(forms[3], sizeof forms[3], "  %s\t", bad);
    for (i = 0; i < 4; i++) {
        reason = NULL;
        ck_assert_msg(crm_normalize_value(normalizer, 0, forms[i],
                                          strlen(forms[i]), out, sizeof out,
                                          &out_len, &reason) == CRM_EUTF8,
                      "normaliser %d accepted invalid UTF-8 \"%s\"",
                      (int)normalizer, forms[i]);
        ck_assert_ptr_nonnull(reason);
    }
}

START_TEST(test_invalid_utf8_everywhere)
{
    size_t k, i;

    for (k = 0; k < sizeof valid_values / sizeof valid_values[0]; k++) {
        for (i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++)
            check_bad_utf8((crm_identity_normalizer)k, valid_values[k],
                           bad_utf8[i]);
    }
}
END_TEST

/* ---- buffer limits ----------------------------------------------------- */

/* Every cap below the size needed gives CRM_ELIMIT, the size needed, and
 * leaves out untouched; the exact size works. */
static void check_small_buffers(crm_identity_normalizer normalizer,
                                unsigned flags, const char *raw,
                                const char *want)
{
    size_t need = strlen(want), cap, out_len;
    char out[64];

    for (cap = 0; cap < need; cap++) {
        memset(out, '#', sizeof out);
        out_len = 0;
        ck_assert_int_eq(crm_normalize_value(normalizer, flags, raw,
                                             strlen(raw), out, cap, &out_len,
                                             NULL),
                         CRM_ELIMIT);
        ck_assert_uint_eq(out_len, need);
        ck_assert_int_eq(out[0], '#');
    }
    ck_assert_int_eq(crm_normalize_value(normalizer, flags, raw, strlen(raw),
                                         out, need, &out_len, NULL),
                     CRM_OK);
    ck_assert_uint_eq(out_len, need);
    ck_assert_int_eq(memcmp(out, want, need), 0);
}

START_TEST(test_small_buffers)
{
    check_small_buffers(CRM_NORMALIZE_EXACT, 0, " M-1 ", "M-1");
    check_small_buffers(CRM_NORMALIZE_ICASE, 0, "AbC", "abc");
    check_small_buffers(CRM_NORMALIZE_EMAIL, 0, "Ｔａｒｏ＠ｘ．ｊｐ",
                        "taro@x.jp");
    check_small_buffers(CRM_NORMALIZE_EMAIL, CRM_NORMALIZE_FOLD_PROVIDER,
                        "t.a.r.o+x@googlemail.com", "taro@gmail.com");
    check_small_buffers(CRM_NORMALIZE_PHONE_JP, 0, "03-1234-5678",
                        "+81312345678");
    check_small_buffers(CRM_NORMALIZE_NAME_JA, 0, "ﾔﾏﾀﾞ", "ヤマダ");
    check_small_buffers(CRM_NORMALIZE_POSTAL_JP, 0, "〒100-0001", "1000001");
}
END_TEST

START_TEST(test_size_query_without_buffer)
{
    size_t out_len = 0;

    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_PHONE_JP, 0,
                                         "090-1234-5678", 13, NULL, 0,
                                         &out_len, NULL),
                     CRM_ELIMIT);
    ck_assert_uint_eq(out_len, strlen(MOBILE));
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_EXACT, 0, "  ", 2,
                                         NULL, 0, &out_len, NULL),
                     CRM_OK);
    ck_assert_uint_eq(out_len, 0);
}
END_TEST

START_TEST(test_longest_value)
{
    enum { MAX = CRM_IDENTITY_MAX_VALUE };
    static char raw[4 * MAX + 64], out[MAX + 8];
    size_t out_len = 99, n;

    memset(raw, 'a', MAX);
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_EXACT, 0, raw, MAX,
                                         out, sizeof out, &out_len, NULL),
                     CRM_OK);
    ck_assert_uint_eq(out_len, MAX);
    /* one byte more is over the limit, with *out_len 0 (no size helps) */
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_ICASE, 0, raw,
                                         MAX + 1, out, sizeof out, &out_len,
                                         NULL),
                     CRM_ELIMIT);
    ck_assert_uint_eq(out_len, 0);
    /* spaces trimmed away do not count */
    memset(raw, ' ', sizeof raw);
    memcpy(raw + 2 * MAX, "山田", 6);
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_EXACT, 0, raw,
                                         sizeof raw, out, sizeof out,
                                         &out_len, NULL),
                     CRM_OK);
    ck_assert_uint_eq(out_len, 6);
    /* nor do spaces a name drops */
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_NAME_JA, 0, raw,
                                         sizeof raw, out, sizeof out,
                                         &out_len, NULL),
                     CRM_OK);
    ck_assert_uint_eq(out_len, 6);
    /* an email over the limit, and a name of 400 full-width kana */
    memset(raw, 'x', MAX);
    memcpy(raw + MAX, "@example.jp", 11);
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_EMAIL, 0, raw,
                                         MAX + 11, out, sizeof out, &out_len,
                                         NULL),
                     CRM_ELIMIT);
    for (n = 0; n < 400; n++)
        memcpy(raw + 3 * n, "ｶ", 3);
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_NAME_JA, 0, raw,
                                         3 * 400, out, sizeof out, &out_len,
                                         NULL),
                     CRM_ELIMIT);
}
END_TEST

/* ---- flags --------------------------------------------------------------- */

/* A flag applies to its own normaliser only; the others ignore it. */
START_TEST(test_flags_of_other_normalisers_are_ignored)
{
    static const norm_case email_with_kana_flag[] = {
        OK("Taro.Y+x@GMAIL.com", "taro.y+x@gmail.com"),
    };
    static const norm_case name_with_provider_flag[] = {
        OK("やまだ ﾀﾛｳ", "やまだタロウ"),
    };
    static const norm_case phone_with_both_flags[] = {
        OK("090-1234-5678", MOBILE),
    };
    static const norm_case exact_with_both_flags[] = {
        OK(" やまだ+x@gmail.com ", "やまだ+x@gmail.com"),
    };
    const unsigned both =
        CRM_NORMALIZE_FOLD_PROVIDER | CRM_NORMALIZE_FOLD_KANA;

    CHECK_CASES(CRM_NORMALIZE_EMAIL, CRM_NORMALIZE_FOLD_KANA,
                email_with_kana_flag);
    CHECK_CASES(CRM_NORMALIZE_NAME_JA, CRM_NORMALIZE_FOLD_PROVIDER,
                name_with_provider_flag);
    CHECK_CASES(CRM_NORMALIZE_PHONE_JP, both, phone_with_both_flags);
    CHECK_CASES(CRM_NORMALIZE_POSTAL_JP, both, postal_cases);
    CHECK_CASES(CRM_NORMALIZE_EXACT, both, exact_with_both_flags);
    CHECK_CASES(CRM_NORMALIZE_ICASE, both, icase_cases);
}
END_TEST

/* ---- arguments and the public wrapper ---------------------------------- */

START_TEST(test_bad_arguments)
{
    char out[32];
    size_t out_len = 7;
    const char *reason = NULL;

    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_EXACT, 0, "a", 1, out,
                                         sizeof out, NULL, &reason),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_EXACT, 0, NULL, 1,
                                         out, sizeof out, &out_len, &reason),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_EXACT, 0, "a", 1,
                                         NULL, 4, &out_len, &reason),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_normalize_value((crm_identity_normalizer)6, 0, "a",
                                         1, out, sizeof out, &out_len,
                                         &reason),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_normalize_value((crm_identity_normalizer)-1, 0, "a",
                                         1, out, sizeof out, &out_len,
                                         &reason),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_NAME_JA, 0x80u, "a",
                                         1, out, sizeof out, &out_len,
                                         &reason),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_EMAIL, 0x4u, "a@b.jp",
                                         6, out, sizeof out, &out_len,
                                         &reason),
                     CRM_EINVAL);
    ck_assert_uint_eq(out_len, 7);
    /* NULL raw with length 0 is the empty value; reason may be NULL */
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_EXACT, 0, NULL, 0,
                                         out, sizeof out, &out_len, NULL),
                     CRM_OK);
    ck_assert_uint_eq(out_len, 0);
    ck_assert_int_eq(crm_normalize_value(CRM_NORMALIZE_PHONE_JP, 0, "x", 1,
                                         out, sizeof out, &out_len, NULL),
                     CRM_EINVAL);
}
END_TEST

START_TEST(test_public_wrapper)
{
    crm_ctx *ctx = NULL;
    char out[32];
    size_t out_len = 0;

    ck_assert_int_eq(crm_ctx_new(&ctx), CRM_OK);
    ck_assert_int_eq(crm_identity_normalize(NULL, CRM_NORMALIZE_PHONE_JP, 0,
                                            "090-1234-5678", 13, out,
                                            sizeof out, &out_len),
                     CRM_OK);
    ck_assert_uint_eq(out_len, strlen(MOBILE));
    ck_assert_int_eq(memcmp(out, MOBILE, out_len), 0);
    ck_assert_int_eq(crm_identity_normalize(NULL, CRM_NORMALIZE_PHONE_JP, 0,
                                            "090-1234", 8, out, sizeof out,
                                            &out_len),
                     CRM_EINVAL);

    ck_assert_int_eq(crm_identity_normalize(ctx, CRM_NORMALIZE_PHONE_JP, 0,
                                            "090-1234-567", 12, out,
                                            sizeof out, &out_len),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_ctx_errcode(ctx), CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "11 digits"));

    ck_assert_int_eq(crm_identity_normalize(ctx, CRM_NORMALIZE_EMAIL, 0,
                                            "taro@x@y.jp", 11, out,
                                            sizeof out, &out_len),
                     CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "more than one '@'"));

    ck_assert_int_eq(crm_identity_normalize(ctx, CRM_NORMALIZE_NAME_JA, 0,
                                            "\xED\xA0\x80", 3, out,
                                            sizeof out, &out_len),
                     CRM_EUTF8);
    ck_assert_int_eq(crm_ctx_errcode(ctx), CRM_EUTF8);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "UTF-8"));

    ck_assert_int_eq(crm_identity_normalize(ctx, CRM_NORMALIZE_POSTAL_JP, 0,
                                            "100-0001", 8, out, 3, &out_len),
                     CRM_ELIMIT);
    ck_assert_uint_eq(out_len, 7);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "7 bytes needed"));

    ck_assert_int_eq(crm_identity_normalize(ctx, CRM_NORMALIZE_EXACT, 0,
                                            "a", 1, out, sizeof out, NULL),
                     CRM_EINVAL);
    ck_assert_int_eq(crm_identity_normalize(ctx, (crm_identity_normalizer)9,
                                            0, "a", 1, out, sizeof out,
                                            &out_len),
                     CRM_EINVAL);
    ck_assert_ptr_nonnull(strstr(crm_ctx_errmsg(ctx), "normaliser"));
    crm_ctx_free(ctx);
}
END_TEST

/* The normalisers write into the caller's buffer only: a ctx whose every
 * allocation fails sees no allocation attempted, on success or error. */
START_TEST(test_never_allocates)
{
    static const struct {
        crm_identity_normalizer normalizer;
        unsigned flags;
        const char *raw;
    } calls[] = {
        {CRM_NORMALIZE_EXACT, 0, "  M-0001 "},
        {CRM_NORMALIZE_ICASE, 0, "LINE-U1"},
        {CRM_NORMALIZE_EMAIL, CRM_NORMALIZE_FOLD_PROVIDER, "T.Y+x@gmail.com"},
        {CRM_NORMALIZE_EMAIL, 0, "broken@"},
        {CRM_NORMALIZE_PHONE_JP, 0, "０９０－１２３４－５６７８"},
        {CRM_NORMALIZE_PHONE_JP, 0, "090-0000-0000"},
        {CRM_NORMALIZE_NAME_JA, CRM_NORMALIZE_FOLD_KANA, "ﾔﾏﾀﾞ やまだ 髙﨑"},
        {CRM_NORMALIZE_POSTAL_JP, 0, "〒100-0001"},
        {CRM_NORMALIZE_POSTAL_JP, 0, "\xC0\xAF"},
    };
    test_alloc ta;
    crm_ctx *ctx = test_ctx_new(&ta);
    char out[64];
    size_t i, out_len, before = ta.calls;

    test_alloc_fail_in(&ta, 1);
    for (i = 0; i < sizeof calls / sizeof calls[0]; i++)
        (void)crm_identity_normalize(ctx, calls[i].normalizer, calls[i].flags,
                                     calls[i].raw, strlen(calls[i].raw), out,
                                     sizeof out, &out_len);
    ck_assert_uint_eq(ta.calls, before);
    ck_assert_uint_eq(ta.failed, 0);
    test_alloc_fail_in(&ta, 0);
    test_ctx_free_checked(ctx, &ta);
}
END_TEST

/* ---- placeholders ------------------------------------------------------ */

typedef struct placeholder_case {
    crm_identity_normalizer normalizer;
    const char *value; /* normalised */
    int placeholder;
} placeholder_case;

static const placeholder_case placeholder_cases[] = {
    {CRM_NORMALIZE_EXACT, "", 1},
    {CRM_NORMALIZE_EXACT, "none", 1},
    {CRM_NORMALIZE_EXACT, "NONE", 1},
    {CRM_NORMALIZE_EXACT, "Null", 1},
    {CRM_NORMALIZE_EXACT, "N/A", 1},
    {CRM_NORMALIZE_ICASE, "n/a", 1},
    {CRM_NORMALIZE_ICASE, "na", 1},
    {CRM_NORMALIZE_ICASE, "-", 1},
    {CRM_NORMALIZE_ICASE, "--", 1},
    {CRM_NORMALIZE_ICASE, "x", 1},
    {CRM_NORMALIZE_ICASE, "unknown", 1},
    {CRM_NORMALIZE_EXACT, "なし", 1},
    {CRM_NORMALIZE_EXACT, "無し", 1},
    {CRM_NORMALIZE_NAME_JA, "なし", 1},
    {CRM_NORMALIZE_NAME_JA, "ナシ", 1},
    {CRM_NORMALIZE_NAME_JA, "unknown", 1},
    {CRM_NORMALIZE_NAME_JA, "", 1},
    {CRM_NORMALIZE_EXACT, "M-0001", 0},
    {CRM_NORMALIZE_EXACT, "nonexistent", 0},
    {CRM_NORMALIZE_EXACT, "---", 0},
    {CRM_NORMALIZE_ICASE, "xx", 0},
    {CRM_NORMALIZE_NAME_JA, "山田太郎", 0},
    {CRM_NORMALIZE_NAME_JA, "ナナシ", 0},
    {CRM_NORMALIZE_EMAIL, "", 1},
    {CRM_NORMALIZE_EMAIL, "test@test.com", 1},
    {CRM_NORMALIZE_EMAIL, "test@shop.co.jp", 1},
    {CRM_NORMALIZE_EMAIL, "noreply@anything.jp", 1},
    {CRM_NORMALIZE_EMAIL, "no-reply@shop.jp", 1},
    {CRM_NORMALIZE_EMAIL, "donotreply@shop.jp", 1},
    {CRM_NORMALIZE_EMAIL, "do-not-reply@shop.jp", 1},
    {CRM_NORMALIZE_EMAIL, "dummy@shop.jp", 1},
    {CRM_NORMALIZE_EMAIL, "example@shop.jp", 1},
    {CRM_NORMALIZE_EMAIL, "taro@example.com", 1},
    {CRM_NORMALIZE_EMAIL, "taro@example.jp", 1},
    {CRM_NORMALIZE_EMAIL, "taro@example.co.jp", 1},
    {CRM_NORMALIZE_EMAIL, "taro@mail.example.co.jp", 1},
    {CRM_NORMALIZE_EMAIL, "taro@test.co.jp", 1},
    {CRM_NORMALIZE_EMAIL, "taro@localhost", 1},
    {CRM_NORMALIZE_EMAIL, "taro@shop.test", 1},
    {CRM_NORMALIZE_EMAIL, "taro@shop.co.jp", 0},
    {CRM_NORMALIZE_EMAIL, "tester@shop.co.jp", 0},
    {CRM_NORMALIZE_EMAIL, "taro@myexample.com", 0},
    {CRM_NORMALIZE_EMAIL, "taro@contest.com", 0},
    {CRM_NORMALIZE_EMAIL, "taro@example.com.au", 0},
    {CRM_NORMALIZE_PHONE_JP, "", 1},
    {CRM_NORMALIZE_PHONE_JP, "+81123456789", 1},  /* 0123456789 */
    {CRM_NORMALIZE_PHONE_JP, "+819876543210", 1}, /* 09876543210 */
    {CRM_NORMALIZE_PHONE_JP, "+81900000000", 1},
    {CRM_NORMALIZE_PHONE_JP, "+819000000000", 1},
    {CRM_NORMALIZE_PHONE_JP, "+81311111111", 1},
    {CRM_NORMALIZE_PHONE_JP, "+81111111111", 1},
    {CRM_NORMALIZE_PHONE_JP, "+1234567890", 1},
    {CRM_NORMALIZE_PHONE_JP, "+11111111111", 1},
    {CRM_NORMALIZE_PHONE_JP, MOBILE, 0},
    {CRM_NORMALIZE_PHONE_JP, "+81312345678", 0},
    {CRM_NORMALIZE_PHONE_JP, "+14155552671", 0},
    {CRM_NORMALIZE_POSTAL_JP, "0000000", 1},
    {CRM_NORMALIZE_POSTAL_JP, "", 1},
    {CRM_NORMALIZE_POSTAL_JP, "1000001", 0},
};

START_TEST(test_placeholders)
{
    size_t i;

    for (i = 0; i < sizeof placeholder_cases / sizeof placeholder_cases[0];
         i++) {
        const placeholder_case *c = &placeholder_cases[i];

        ck_assert_msg(crm_normalize_is_placeholder(c->normalizer, c->value,
                                                   strlen(c->value)) ==
                          c->placeholder,
                      "normaliser %d, \"%s\": want placeholder %d",
                      (int)c->normalizer, c->value, c->placeholder);
    }
    ck_assert_int_eq(crm_normalize_is_placeholder(CRM_NORMALIZE_EXACT, NULL,
                                                  0),
                     1);
}
END_TEST

/* Raw values that normalise to a placeholder, end to end. */
START_TEST(test_placeholders_after_normalising)
{
    static const struct {
        crm_identity_normalizer normalizer;
        const char *raw;
    } raws[] = {
        {CRM_NORMALIZE_EXACT, "　None　"},
        {CRM_NORMALIZE_ICASE, " N/A "},
        {CRM_NORMALIZE_NAME_JA, "な し"},
        {CRM_NORMALIZE_NAME_JA, "ＮＵＬＬ"},
        {CRM_NORMALIZE_EMAIL, "ＴＥＳＴ＠ＴＥＳＴ．ＣＯＭ"},
        {CRM_NORMALIZE_EMAIL, "No-Reply@Shop.co.jp"},
        {CRM_NORMALIZE_PHONE_JP, "０１２３－４５－６７８９"},
        {CRM_NORMALIZE_POSTAL_JP, "〒000-0000"},
    };
    char out[64];
    size_t i, out_len;

    for (i = 0; i < sizeof raws / sizeof raws[0]; i++) {
        ck_assert_int_eq(crm_normalize_value(raws[i].normalizer, 0,
                                             raws[i].raw,
                                             strlen(raws[i].raw), out,
                                             sizeof out, &out_len, NULL),
                         CRM_OK);
        ck_assert_msg(crm_normalize_is_placeholder(raws[i].normalizer, out,
                                                   out_len),
                      "\"%s\" is not a placeholder", raws[i].raw);
    }
}
END_TEST


/* ---- ASCII short paths agree with the general path ---- */

static uint64_t next_random(uint64_t *state)
{
    *state = *state * UINT64_C(6364136223846793005) + 1442695040888963407u;
    return *state >> 33;
}

/* A random ASCII value drawn from alphabet (length 1..24). */
static size_t random_ascii(uint64_t *state, const char *alphabet, char *out)
{
    size_t n = 1 + next_random(state) % 24, i, k = strlen(alphabet);

    for (i = 0; i < n; i++)
        out[i] = alphabet[next_random(state) % k];
    return n;
}

/* s with every printable character other than space turned into its
 * full-width form (U+FF01..U+FF5E) at random: the general path folds
 * those, the ASCII short path reads the rest. */
static size_t widen_some(uint64_t *state, const char *s, size_t n, char *out)
{
    size_t i, m = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c > ' ' && c < 0x7F && next_random(state) % 2) {
            m += crm_utf8_encode(0xFF01u + (unsigned)(c - '!'), out + m);
        } else {
            out[m++] = s[i];
        }
    }
    return m;
}

static void check_paths_agree(crm_identity_normalizer normalizer,
                              const char *alphabet)
{
    uint64_t state = 42;
    char raw[32], wide[128], a[CRM_IDENTITY_MAX_VALUE],
        b[CRM_IDENTITY_MAX_VALUE];
    size_t n, m, alen, blen;
    crm_status sa, sb;
    int i;

    for (i = 0; i < 20000; i++) {
        n = random_ascii(&state, alphabet, raw);
        m = widen_some(&state, raw, n, wide);
        alen = blen = 0;
        sa = crm_normalize_value(normalizer, 0, raw, n, a, sizeof a, &alen,
                                 NULL);
        sb = crm_normalize_value(normalizer, 0, wide, m, b, sizeof b, &blen,
                                 NULL);
        ck_assert_msg(sa == sb && (sa != CRM_OK || (alen == blen &&
                                                    memcmp(a, b, alen) == 0)),
                      "normaliser %d: \"%.*s\" and its widened form differ",
                      (int)normalizer, (int)n, raw);
    }
}

START_TEST(test_ascii_paths_agree)
{
    check_paths_agree(CRM_NORMALIZE_EMAIL,
                      "abcXYZ019.-_+@@@..\"(),:;<>[\\] \t\x01~");
    check_paths_agree(CRM_NORMALIZE_EMAIL, "aZ9@.");
    check_paths_agree(CRM_NORMALIZE_PHONE_JP, "0123456789---+() .[]x");
    check_paths_agree(CRM_NORMALIZE_PHONE_JP, "00789-");
}
END_TEST

static Suite *identity_normalize_suite(void)
{
    Suite *s = suite_create("identity_normalize");
    TCase *tc = tcase_create("normalize");

    tcase_add_test(tc, test_exact_and_icase);
    tcase_add_test(tc, test_email);
    tcase_add_test(tc, test_phone);
    tcase_add_test(tc, test_postal);
    tcase_add_test(tc, test_name);
    tcase_add_test(tc, test_every_kana_with_every_mark);
    tcase_add_test(tc, test_reasons_name_the_problem);
    tcase_add_test(tc, test_invalid_utf8_everywhere);
    tcase_add_test(tc, test_small_buffers);
    tcase_add_test(tc, test_size_query_without_buffer);
    tcase_add_test(tc, test_longest_value);
    tcase_add_test(tc, test_flags_of_other_normalisers_are_ignored);
    tcase_add_test(tc, test_bad_arguments);
    tcase_add_test(tc, test_public_wrapper);
    tcase_add_test(tc, test_never_allocates);
    tcase_add_test(tc, test_placeholders);
    tcase_add_test(tc, test_placeholders_after_normalising);
    tcase_add_test(tc, test_ascii_paths_agree);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *runner = srunner_create(identity_normalize_suite());
    int failed;

    srunner_run_all(runner, CK_NORMAL);
    failed = srunner_ntests_failed(runner);
    srunner_free(runner);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
