/*
 * CRM_NORMALIZE_NAME_JA: a Japanese personal name reduced to a matching
 * key. Widths folded (full-width ASCII to ASCII, half-width katakana to
 * full-width with voiced marks composed), spaces and middle dots removed,
 * ASCII lowercased, common variant kanji folded (髙 -> 高, 﨑 -> 崎 ...)
 * and, with CRM_NORMALIZE_FOLD_KANA, hiragana folded to katakana.
 */
#include <stddef.h>

#include "identity/normalize_internal.h"

/* U+FF61..U+FF9F (half-width katakana and punctuation) to their full-width
 * forms (NFKC); the half-width voiced marks become U+3099/U+309A. */
static const uint16_t halfwidth_kana[] = {
    0x3002, 0x300C, 0x300D, 0x3001, 0x30FB, 0x30F2, 0x30A1, 0x30A3,
    0x30A5, 0x30A7, 0x30A9, 0x30E3, 0x30E5, 0x30E7, 0x30C3, 0x30FC,
    0x30A2, 0x30A4, 0x30A6, 0x30A8, 0x30AA, 0x30AB, 0x30AD, 0x30AF,
    0x30B1, 0x30B3, 0x30B5, 0x30B7, 0x30B9, 0x30BB, 0x30BD, 0x30BF,
    0x30C1, 0x30C4, 0x30C6, 0x30C8, 0x30CA, 0x30CB, 0x30CC, 0x30CD,
    0x30CE, 0x30CF, 0x30D2, 0x30D5, 0x30D8, 0x30DB, 0x30DE, 0x30DF,
    0x30E0, 0x30E1, 0x30E2, 0x30E4, 0x30E6, 0x30E8, 0x30E9, 0x30EA,
    0x30EB, 0x30EC, 0x30ED, 0x30EF, 0x30F3, 0x3099, 0x309A,
};

typedef struct kanji_fold {
    uint32_t variant;
    uint32_t standard;
} kanji_fold;

/* Variant kanji people write in names, and the form they are matched as.
 * Sorted by variant (binary search). */
static const kanji_fold variant_kanji[] = {
    {0x4E9E, 0x4E9C}, /* 亞 -> 亜 */
    {0x4F86, 0x6765}, /* 來 -> 来 */
    {0x50B3, 0x4F1D}, /* 傳 -> 伝 */
    {0x5152, 0x5150}, /* 兒 -> 児 */
    {0x51A8, 0x5BCC}, /* 冨 -> 富 */
    {0x570B, 0x56FD}, /* 國 -> 国 */
    {0x5713, 0x5186}, /* 圓 -> 円 */
    {0x57DC, 0x91CE}, /* 埜 -> 野 */
    {0x589E, 0x5897}, /* 增 -> 増 */
    {0x58FD, 0x5BFF}, /* 壽 -> 寿 */
    {0x5B78, 0x5B66}, /* 學 -> 学 */
    {0x5BE6, 0x5B9F}, /* 實 -> 実 */
    {0x5BF3, 0x5B9D}, /* 寳 -> 宝 */
    {0x5BF6, 0x5B9D}, /* 寶 -> 宝 */
    {0x5CEF, 0x5CF0}, /* 峯 -> 峰 */
    {0x5D5C, 0x5D0E}, /* 嵜 -> 崎 */
    {0x5D8B, 0x5CF6}, /* 嶋 -> 島 */
    {0x5D8C, 0x5CF6}, /* 嶌 -> 島 */
    {0x5DBD, 0x5CB3}, /* 嶽 -> 岳 */
    {0x5EE3, 0x5E83}, /* 廣 -> 広 */
    {0x5F4C, 0x5F25}, /* 彌 -> 弥 */
    {0x5F65, 0x5F66}, /* 彥 -> 彦 */
    {0x5FB7, 0x5FB3}, /* 德 -> 徳 */
    {0x60E0, 0x6075}, /* 惠 -> 恵 */
    {0x651D, 0x6442}, /* 攝 -> 摂 */
    {0x658E, 0x6589}, /* 斎 -> 斉 */
    {0x6649, 0x664B}, /* 晉 -> 晋 */
    {0x66FE, 0x66FD}, /* 曾 -> 曽 */
    {0x6703, 0x4F1A}, /* 會 -> 会 */
    {0x6801, 0x67F3}, /* 栁 -> 柳 */
    {0x689D, 0x6761}, /* 條 -> 条 */
    {0x69AE, 0x6804}, /* 榮 -> 栄 */
    {0x69C7, 0x69D9}, /* 槇 -> 槙 */
    {0x6A9C, 0x6867}, /* 檜 -> 桧 */
    {0x6AFB, 0x685C}, /* 櫻 -> 桜 */
    {0x6DF8, 0x6E05}, /* 淸 -> 清 */
    {0x6DFA, 0x6D45}, /* 淺 -> 浅 */
    {0x6E15, 0x6DF5}, /* 渕 -> 淵 */
    {0x6F80, 0x6E0B}, /* 澀 -> 渋 */
    {0x6F81, 0x6E0B}, /* 澁 -> 渋 */
    {0x6FA4, 0x6CA2}, /* 澤 -> 沢 */
    {0x6FF1, 0x6D5C}, /* 濱 -> 浜 */
    {0x6FF5, 0x6D5C}, /* 濵 -> 浜 */
    {0x7028, 0x702C}, /* 瀨 -> 瀬 */
    {0x7576, 0x5F53}, /* 當 -> 当 */
    {0x771E, 0x771F}, /* 眞 -> 真 */
    {0x79AE, 0x793C}, /* 禮 -> 礼 */
    {0x7C60, 0x7BED}, /* 籠 -> 篭 */
    {0x7E23, 0x770C}, /* 縣 -> 県 */
    {0x8070, 0x8061}, /* 聰 -> 聡 */
    {0x807D, 0x8074}, /* 聽 -> 聴 */
    {0x8207, 0x4E0E}, /* 與 -> 与 */
    {0x8218, 0x9928}, /* 舘 -> 館 */
    {0x838A, 0x8358}, /* 莊 -> 荘 */
    {0x842C, 0x4E07}, /* 萬 -> 万 */
    {0x85CF, 0x8535}, /* 藏 -> 蔵 */
    {0x85DD, 0x82B8}, /* 藝 -> 芸 */
    {0x8C50, 0x8C4A}, /* 豐 -> 豊 */
    {0x9089, 0x8FBA}, /* 邉 -> 辺 */
    {0x908A, 0x8FBA}, /* 邊 -> 辺 */
    {0x90A8, 0x6751}, /* 邨 -> 村 */
    {0x9435, 0x9244}, /* 鐵 -> 鉄 */
    {0x95DC, 0x95A2}, /* 關 -> 関 */
    {0x9751, 0x9752}, /* 靑 -> 青 */
    {0x975C, 0x9759}, /* 靜 -> 静 */
    {0x986F, 0x9855}, /* 顯 -> 顕 */
    {0x9A5B, 0x99C5}, /* 驛 -> 駅 */
    {0x9AD9, 0x9AD8}, /* 髙 -> 高 */
    {0x9DD7, 0x9D0E}, /* 鷗 -> 鴎 */
    {0x9ED1, 0x9ED2}, /* 黑 -> 黒 */
    {0x9F4A, 0x6589}, /* 齊 -> 斉 */
    {0x9F4B, 0x6589}, /* 齋 -> 斉 */
    {0x9F8D, 0x7ADC}, /* 龍 -> 竜 */
    /* CJK compatibility ideographs used in Japan (IBM extensions, JIS X
     * 0213): their canonical (NFC) forms */
    {0xFA10, 0x585A},
    {0xFA11, 0x5D0E},
    {0xFA12, 0x6674},
    {0xFA15, 0x51DE},
    {0xFA16, 0x732A},
    {0xFA17, 0x76CA},
    {0xFA18, 0x793C},
    {0xFA19, 0x795E},
    {0xFA1A, 0x7965},
    {0xFA1B, 0x798F},
    {0xFA1C, 0x9756},
    {0xFA1D, 0x7CBE},
    {0xFA1E, 0x7FBD},
    {0xFA20, 0x8612},
    {0xFA22, 0x8AF8},
    {0xFA25, 0x9038},
    {0xFA26, 0x90FD},
    {0xFA2A, 0x98EF},
    {0xFA2B, 0x98FC},
    {0xFA2C, 0x9928},
    {0xFA2D, 0x9DB4},
    {0xFA2E, 0x90DE},
    {0xFA2F, 0x96B7},
    {0xFA30, 0x4FAE},
    {0xFA31, 0x50E7},
    {0xFA32, 0x514D},
    {0xFA33, 0x52C9},
    {0xFA34, 0x52E4},
    {0xFA35, 0x5351},
    {0xFA36, 0x559D},
    {0xFA37, 0x5606},
    {0xFA38, 0x5668},
    {0xFA39, 0x5840},
    {0xFA3A, 0x58A8},
    {0xFA3B, 0x5C64},
    {0xFA3C, 0x5C6E},
    {0xFA3D, 0x6094},
    {0xFA3E, 0x6168},
    {0xFA3F, 0x618E},
    {0xFA40, 0x61F2},
    {0xFA41, 0x654F},
    {0xFA42, 0x65E2},
    {0xFA43, 0x6691},
    {0xFA44, 0x6885},
    {0xFA45, 0x6D77},
    {0xFA46, 0x6E1A},
    {0xFA47, 0x6F22},
    {0xFA48, 0x716E},
    {0xFA49, 0x722B},
    {0xFA4A, 0x7422},
    {0xFA4B, 0x7891},
    {0xFA4C, 0x793E},
    {0xFA4D, 0x7949},
    {0xFA4E, 0x7948},
    {0xFA4F, 0x7950},
    {0xFA50, 0x7956},
    {0xFA51, 0x795D},
    {0xFA52, 0x798D},
    {0xFA53, 0x798E},
    {0xFA54, 0x7A40},
    {0xFA55, 0x7A81},
    {0xFA56, 0x7BC0},
    {0xFA57, 0x7DF4},
    {0xFA58, 0x7E09},
    {0xFA59, 0x7E41},
    {0xFA5A, 0x7F72},
    {0xFA5B, 0x8005},
    {0xFA5C, 0x81ED},
    {0xFA5D, 0x8279},
    {0xFA5E, 0x8279},
    {0xFA5F, 0x8457},
    {0xFA60, 0x8910},
    {0xFA61, 0x8996},
    {0xFA62, 0x8B01},
    {0xFA63, 0x8B39},
    {0xFA64, 0x8CD3},
    {0xFA65, 0x8D08},
    {0xFA66, 0x8FB6},
    {0xFA67, 0x9038},
    {0xFA68, 0x96E3},
    {0xFA69, 0x97FF},
    {0xFA6A, 0x983B},
    {0xFA6B, 0x6075},
    {0xFA6C, 0x242EE},
    {0xFA6D, 0x9928},
    {0x20BB7, 0x5409}, /* 𠮷 -> 吉 */
};

static uint32_t fold_variant_kanji(uint32_t cp)
{
    size_t lo = 0, hi = sizeof variant_kanji / sizeof variant_kanji[0];

    if (cp < variant_kanji[0].variant)
        return cp;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (variant_kanji[mid].variant == cp)
            return variant_kanji[mid].standard;
        if (variant_kanji[mid].variant < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return cp;
}

static uint32_t fold_halfwidth_kana(uint32_t cp)
{
    return cp >= 0xFF61 && cp <= 0xFF9F ? halfwidth_kana[cp - 0xFF61] : cp;
}

static int is_hiragana(uint32_t cp)
{
    return (cp >= 0x3041 && cp <= 0x3096) || cp == 0x309D || cp == 0x309E;
}

/* ぁ..ゖ, ゝ, ゞ to ァ..ヶ, ヽ, ヾ (a fixed distance apart). */
static uint32_t hiragana_to_katakana(uint32_t cp)
{
    return is_hiragana(cp) ? cp + 0x60 : cp;
}

/* 1 for a voiced sound mark (゛), 2 for a semi-voiced one (゜), else 0. */
static int sound_mark_of(uint32_t cp)
{
    if (cp == 0x3099 || cp == 0x309B)
        return 1;
    if (cp == 0x309A || cp == 0x309C)
        return 2;
    return 0;
}

/* ハ ヒ フ ヘ ホ: voiced one code point further, semi-voiced two. */
static int is_ha_row(uint32_t k)
{
    return k >= 0x30CF && k <= 0x30DB && (k - 0x30CF) % 3 == 0;
}

/* Katakana with a precomposed voiced form one code point further:
 * the カ, サ, タ and ハ rows. */
static int takes_voiced_mark(uint32_t k)
{
    if (k >= 0x30AB && k <= 0x30C2)
        return (k & 1) == 1;
    if (k >= 0x30C4 && k <= 0x30C8)
        return (k & 1) == 0;
    return is_ha_row(k);
}

/* The katakana k with a sound mark (1 or 2) composed, or 0 when no
 * precomposed form exists. */
static uint32_t compose_katakana(uint32_t k, int mark)
{
    if (mark == 2)
        return is_ha_row(k) ? k + 2 : 0;
    if (takes_voiced_mark(k))
        return k + 1;
    if (k == 0x30A6) /* ウ -> ヴ */
        return 0x30F4;
    if (k >= 0x30EF && k <= 0x30F2) /* ワ ヰ ヱ ヲ -> ヷ ヸ ヹ ヺ */
        return k + 8;
    return k == 0x30FD ? 0x30FE : 0; /* ヽ -> ヾ */
}

/* The kana cp with a sound mark composed, or 0. Hiragana compose as their
 * katakana do, except わ ゐ ゑ を: no voiced hiragana exist for them. */
static uint32_t compose_kana(uint32_t cp, int mark)
{
    uint32_t k;

    if (!is_hiragana(cp))
        return cp >= 0x30A1 && cp <= 0x30FE ? compose_katakana(cp, mark) : 0;
    k = compose_katakana(cp + 0x60, mark);
    if (k == 0 || (k >= 0x30F7 && k <= 0x30FA))
        return 0;
    return k - 0x60;
}

/* Replaces the last code point of b by its composition with mark; 0 when
 * it has none (or b is empty). Kana are three bytes in UTF-8. */
static int compose_with_last(norm_buf *b, int mark)
{
    const unsigned char *p;
    uint32_t last, composed;

    if (b->len < 3 || b->len > sizeof b->data)
        return 0;
    p = (const unsigned char *)b->data + b->len - 3;
    if (p[0] != 0xE3)
        return 0;
    last = ((uint32_t)(p[0] & 0x0F) << 12) | ((uint32_t)(p[1] & 0x3F) << 6) |
           (uint32_t)(p[2] & 0x3F);
    composed = compose_kana(last, mark);
    if (composed == 0)
        return 0;
    b->len -= 3;
    norm_put_cp(b, composed);
    return 1;
}

static int is_dropped_in_names(uint32_t cp)
{
    return norm_is_space(cp) || cp == 0x00A0 || cp == 0x30FB /* ・ */;
}

crm_status norm_name_ja(const char *s, size_t len, unsigned flags,
                        norm_buf *b, const char **reason)
{
    size_t pos = 0;

    (void)reason;
    while (pos < len) {
        uint32_t cp = crm_utf8_decode_valid(s, &pos);
        int mark;

        cp = fold_halfwidth_kana(norm_ascii_lower(norm_fold_width(cp)));
        if (is_dropped_in_names(cp))
            continue;
        mark = sound_mark_of(cp);
        if (mark != 0 && compose_with_last(b, mark))
            continue;
        if (mark != 0)
            cp = mark == 1 ? 0x3099 : 0x309A;
        if (flags & CRM_NORMALIZE_FOLD_KANA)
            cp = hiragana_to_katakana(cp);
        norm_put_cp(b, fold_variant_kanji(cp));
    }
    return CRM_OK;
}
