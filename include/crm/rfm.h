/*
 * libcrm: the rfm module. (Its API is added by the module's issue.)
 */
#ifndef CRM_RFM_H
#define CRM_RFM_H

#include "crm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CRM_RFM_H */
