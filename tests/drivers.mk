# `make test-drivers`: the driver conformance matrix, every disk and NIC
# controller type through the same suite, one driver VM at a time, then the
# table (build/drivers/drivers.md; DRV_UPDATE_DOCS=1 also puts it into
# docs/drivers.md).  DRIVER_TYPES="..." runs only those; see
# tests/drivers/run.sh.  `make test` runs a representative subset
# (tests/integration/test-drivers-*.sh).
.PHONY: test-drivers
test-drivers: deps
	@$(MAKE) --no-print-directory all
	@tests/drivers/run.sh
