# frozen_string_literal: true

# Binds every libcrm module the loaded library exports (so the binding also
# works with an older or partial build).
require_relative "rfm" if CRM::Native.exports?(:crm_rfm_new)
require_relative "analytics" if CRM::Native.exports?(:crm_analytics_new)
require_relative "segment" if CRM::Native.exports?(:crm_segment_compile)
require_relative "clv" if CRM::Native.exports?(:crm_clv_model_new)
require_relative "scenario" if CRM::Native.exports?(:crm_scenario_engine_new)
require_relative "identity" if CRM::Native.exports?(:crm_identity_new)
