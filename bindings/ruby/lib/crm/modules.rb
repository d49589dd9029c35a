# frozen_string_literal: true

# Loads the binding of every libcrm module this checkout knows.
