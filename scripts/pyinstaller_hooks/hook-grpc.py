# Replaces PyInstaller's hook for grpc, which collects every data file of the package: gRPC's own TLS root
# certificates and C++ sources and type stubs. The plugin serves plain gRPC to its engine on 127.0.0.1 and
# dials no TLS endpoint through gRPC (the Clever Cloud API is reached with httpx, which verifies with certifi).
datas: list[tuple[str, str]] = []
