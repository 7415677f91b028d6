// XDSTests
