/*
 * The built-in segment maps over 5-bin (r, f) scores and their names (see
 * the tables in crm/rfm.h).
 */
#include "rfm/rfm_internal.h"

enum { JP4_BEST, JP4_REGULAR, JP4_NEW, JP4_DORMANT };

enum {
    RF_CHAMPIONS, RF_LOYAL, RF_POTENTIAL, RF_NEW, RF_PROMISING, RF_ATTENTION,
    RF_ABOUT_TO_SLEEP, RF_AT_RISK, RF_CANT_LOSE, RF_HIBERNATING, RF_LOST
};

/* [5 - r][f - 1]: the first row is r = 5, as in the header's tables. */
static const unsigned char jp4_grid[5][5] = {
    {JP4_NEW, JP4_REGULAR, JP4_REGULAR, JP4_BEST, JP4_BEST},
    {JP4_NEW, JP4_REGULAR, JP4_REGULAR, JP4_BEST, JP4_BEST},
    {JP4_REGULAR, JP4_REGULAR, JP4_REGULAR, JP4_REGULAR, JP4_REGULAR},
    {JP4_DORMANT, JP4_DORMANT, JP4_DORMANT, JP4_DORMANT, JP4_DORMANT},
    {JP4_DORMANT, JP4_DORMANT, JP4_DORMANT, JP4_DORMANT, JP4_DORMANT},
};

static const unsigned char rf11_grid[5][5] = {
    {RF_NEW, RF_POTENTIAL, RF_POTENTIAL, RF_CHAMPIONS, RF_CHAMPIONS},
    {RF_PROMISING, RF_POTENTIAL, RF_POTENTIAL, RF_LOYAL, RF_LOYAL},
    {RF_ABOUT_TO_SLEEP, RF_ABOUT_TO_SLEEP, RF_ATTENTION, RF_LOYAL, RF_LOYAL},
    {RF_HIBERNATING, RF_HIBERNATING, RF_AT_RISK, RF_AT_RISK, RF_CANT_LOSE},
    {RF_LOST, RF_LOST, RF_AT_RISK, RF_AT_RISK, RF_CANT_LOSE},
};

static const char *const jp4_names[4][2] = {
    {"Best", "優良顧客"},
    {"Regular", "一般顧客"},
    {"New", "新規顧客"},
    {"Dormant", "休眠顧客"},
};

static const char *const rf11_names[11][2] = {
    {"Champions", "チャンピオン"},
    {"Loyal", "ロイヤル顧客"},
    {"Potential loyalist", "ロイヤル候補"},
    {"New", "新規顧客"},
    {"Promising", "有望顧客"},
    {"Need attention", "要注意顧客"},
    {"About to sleep", "休眠予備軍"},
    {"At risk", "離反危険顧客"},
    {"Can't lose", "手放せない顧客"},
    {"Hibernating", "休眠顧客"},
    {"Lost", "離反顧客"},
};

unsigned crm_rfm_map_group_count(crm_rfm_map map)
{
    switch (map) {
    case CRM_RFM_MAP_JP4:
        return 4;
    case CRM_RFM_MAP_RF11:
        return 11;
    }
    return 0;
}

crm_status crm_rfm_map_group(crm_rfm_map map, int r, int f, int *group)
{
    if (!group || r < 1 || r > 5 || f < 1 || f > 5 ||
        crm_rfm_map_group_count(map) == 0)
        return CRM_EINVAL;
    *group = map == CRM_RFM_MAP_JP4 ? jp4_grid[5 - r][f - 1]
                                    : rf11_grid[5 - r][f - 1];
    return CRM_OK;
}

const char *crm_rfm_group_name(crm_rfm_map map, int group, crm_rfm_lang lang)
{
    unsigned count = crm_rfm_map_group_count(map);

    if (group < 0 || (unsigned)group >= count ||
        (lang != CRM_RFM_LANG_EN && lang != CRM_RFM_LANG_JA))
        return NULL;
    return map == CRM_RFM_MAP_JP4 ? jp4_names[group][lang]
                                  : rf11_names[group][lang];
}
