/*
 * libcrm umbrella header: includes every module's public header.
 *
 *   crm/common.h    status codes, crm_ctx, version, time parsing
 *   crm/identity.h  identity merging: one customer, one id
 *   crm/rfm.h       RFM scoring and customer-value analytics
 *   crm/clv.h       lifetime-value models (BG/NBD, Pareto/NBD, Gamma-Gamma)
 *   crm/segment.h   segment rules: compile once, evaluate fast
 *   crm/scenario.h  scenario (journey) evaluation with caller-kept state
 */
#ifndef CRM_H
#define CRM_H

#include "crm/common.h"
#include "crm/identity.h"
#include "crm/rfm.h"
#include "crm/clv.h"
#include "crm/segment.h"
#include "crm/scenario.h"

#endif /* CRM_H */
