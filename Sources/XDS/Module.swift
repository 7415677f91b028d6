// XDS
