# frozen_string_literal: true

# libcrm for Ruby: the computing part of e-commerce CRM, over the ffi gem.
#
#   require "crm"
#   CRM::Context.open do |ctx|
#     ...                                  # every object is made from a Context
#   end
#   CRM.parse_time("2024-05-01T10:00:00+09:00")   # => Unix seconds
#
# Errors raise subclasses of CRM::Error (CRM::ParseError carries line and
# column). The shared library is found through CRM_LIBRARY, the checkout's
# build tree, then the system search path.
module CRM
  VERSION = "1.0.0"
end

require_relative "crm/native"
require_relative "crm/errors"
require_relative "crm/context"
require_relative "crm/columns"
require_relative "crm/modules"
