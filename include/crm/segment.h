/*
 * libcrm: the segment module. (Its API is added by the module's issue.)
 */
#ifndef CRM_SEGMENT_H
#define CRM_SEGMENT_H

#include "crm/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* CRM_SEGMENT_H */
