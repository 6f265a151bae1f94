/**
 * Traefik v3.7's dynamic configuration, as the fields that its label and KV decoders accept.
 *
 * This table is the project's only knowledge of which fields exist: label decoding, validation,
 * key generation and rendering all read it. It was derived by reading the Go structs in Traefik's
 * `pkg/config/dynamic` (tags `json`, `label`, `kv`, `label-slice-as-struct`) at the v3.7 branch.
 * test/unit/schema-vs-traefik.test.ts checks it against a listing generated from those structs
 * (scripts/traefik-dynamic-fields.ts); to follow a new Traefik release, regenerate the listing and
 * edit this table where the test says.
 *
 * Field keys are the JSON names (the spelling written to etcd and printed by `render`); Traefik
 * matches them case-insensitively. A field is a type expression:
 *
 * - `string`, `bool`, `int`, `uint`, `float`, `duration` (Go duration or whole seconds);
 * - `enum(a|b)`: a string restricted to those values (matched case-insensitively, written as given);
 * - `T[]`: a list (labels give lists of scalars as comma-separated values, lists of objects as `name[0].x`);
 * - `map<T>`: names chosen by the user (routers, header names); `map<raw>`: free-form plugin options;
 * - another struct's name; `allowEmpty` after it means `field=true` alone creates it with defaults;
 * - `as <name>`: the label spelling of a list that labels set as one object (`loadBalancer.server.port`);
 * - `ref`: the value names other resources, so provider suffixes (`@docker`) are rewritten;
 * - `provider`: set by the provider itself, never by users (a router's `defaultRule` flag);
 * - `since 3.6`: the Traefik release that introduced the field (`3.6` is 3.6.0), where later than
 *   3.0.0; `enum(wrr|hrw@3.6)`: a value introduced after its field. An older Traefik rejects the
 *   whole tree on one field it does not know, so labels that need a release newer than
 *   --traefik-min-version are refused. The test checks these against
 *   test/fixtures/traefik-field-versions.json (scripts/traefik-field-versions.ts, from Traefik's tags).
 *
 * An object `{ t, label: false }` is a field Traefik refuses from labels (but reads from etcd);
 * `{ t, kv: false }` is a label-only field that the provider consumes (the server's scheme and port).
 */
export const traefikDynamicSchema = {
  Configuration: {
    http: 'HTTPConfiguration',
    tcp: 'TCPConfiguration',
    udp: 'UDPConfiguration',
    tls: 'TLSConfiguration',
  },
  HTTPConfiguration: {
    routers: 'map<Router>',
    services: 'map<Service>',
    middlewares: 'map<Middleware>',
    models: 'map<Model>',
    serversTransports: { t: 'map<ServersTransport>', label: false },
  },
  Router: {
    entryPoints: 'string[]',
    middlewares: 'string[] ref',
    service: 'string ref',
    rule: 'string',
    parentRefs: { t: 'string[] since 3.6', label: false },
    ruleSyntax: 'enum(v2|v3)',
    priority: 'int',
    tls: 'RouterTLSConfig allowEmpty',
    observability: 'RouterObservabilityConfig since 3.3',
    defaultRule: { t: 'bool provider', label: false },
  },
  RouterTLSConfig: {
    options: 'string ref',
    certResolver: 'string',
    domains: 'types.Domain[]',
  },
  'types.Domain': {
    main: 'string',
    sans: 'string[]',
  },
  RouterObservabilityConfig: {
    accessLogs: 'bool',
    metrics: 'bool',
    tracing: 'bool',
    traceVerbosity: 'enum(minimal|detailed) since 3.5',
  },
  Service: {
    middlewares: 'string[] ref since 3.7',
    loadBalancer: 'ServersLoadBalancer',
    highestRandomWeight: { t: 'HighestRandomWeight since 3.6', label: false },
    weighted: { t: 'WeightedRoundRobin', label: false },
    mirroring: { t: 'Mirroring', label: false },
    failover: { t: 'Failover', label: false },
  },
  ServersLoadBalancer: {
    sticky: 'Sticky allowEmpty',
    servers: 'Server[] as server',
    strategy: 'enum(wrr|p2c|hrw@3.6|leasttime@3.6) since 3.4',
    healthCheck: 'ServerHealthCheck',
    passiveHealthCheck: 'PassiveServerHealthCheck since 3.6',
    passHostHeader: 'bool',
    responseForwarding: 'ResponseForwarding',
    serversTransport: 'string ref',
  },
  Sticky: {
    cookie: 'Cookie allowEmpty',
  },
  Cookie: {
    name: 'string',
    secure: 'bool',
    httpOnly: 'bool',
    sameSite: 'enum(none|lax|strict)',
    maxAge: 'int',
    path: 'string since 3.3',
    domain: 'string since 3.4',
  },
  Server: {
    url: 'string',
    weight: 'int',
    preservePath: 'bool since 3.2',
    scheme: { t: 'string', kv: false },
    port: { t: 'string', kv: false },
  },
  ServerHealthCheck: {
    scheme: 'string',
    mode: 'enum(http|grpc)',
    path: 'string',
    method: 'string',
    status: 'int',
    port: 'int',
    interval: 'duration',
    unhealthyInterval: 'duration since 3.5',
    timeout: 'duration',
    hostname: 'string',
    followRedirects: 'bool',
    headers: 'map<string>',
  },
  PassiveServerHealthCheck: {
    failureWindow: 'duration',
    maxFailedAttempts: 'int',
  },
  ResponseForwarding: {
    flushInterval: 'duration',
  },
  HighestRandomWeight: {
    services: 'HRWService[]',
    healthCheck: 'HealthCheck allowEmpty',
  },
  HealthCheck: {},
  HRWService: {
    name: 'string ref',
    weight: 'int',
  },
  WeightedRoundRobin: {
    services: 'WRRService[]',
    sticky: 'Sticky',
    healthCheck: 'HealthCheck allowEmpty',
  },
  WRRService: {
    name: 'string ref',
    weight: 'int',
  },
  Mirroring: {
    service: 'string ref',
    mirrorBody: 'bool since 3.2',
    maxBodySize: 'int',
    mirrors: 'MirrorService[]',
    healthCheck: 'HealthCheck allowEmpty',
  },
  MirrorService: {
    name: 'string ref',
    percent: 'int',
  },
  Failover: {
    service: 'string ref',
    fallback: 'string ref',
    errors: 'FailoverError since 3.7',
    healthCheck: 'HealthCheck allowEmpty',
  },
  FailoverError: {
    maxRequestBodyBytes: 'int',
    status: 'string[]',
  },
  Middleware: {
    addPrefix: 'AddPrefix',
    stripPrefix: 'StripPrefix',
    stripPrefixRegex: 'StripPrefixRegex',
    replacePath: 'ReplacePath',
    replacePathRegex: 'ReplacePathRegex',
    chain: 'Chain',
    ipWhiteList: 'IPWhiteList',
    ipAllowList: 'IPAllowList',
    headers: 'Headers',
    encodedCharacters: 'EncodedCharacters since 3.7',
    errors: 'ErrorPage',
    rateLimit: 'RateLimit',
    redirectRegex: 'RedirectRegex',
    redirectScheme: 'RedirectScheme',
    basicAuth: 'BasicAuth',
    digestAuth: 'DigestAuth',
    forwardAuth: 'ForwardAuth',
    inFlightReq: 'InFlightReq',
    buffering: 'Buffering',
    circuitBreaker: 'CircuitBreaker',
    compress: 'Compress allowEmpty',
    passTLSClientCert: 'PassTLSClientCert',
    retry: 'Retry',
    contentType: 'ContentType allowEmpty',
    grpcWeb: 'GrpcWeb',
    plugin: 'map<raw>',
  },
  AddPrefix: {
    prefix: 'string',
  },
  StripPrefix: {
    prefixes: 'string[]',
    forceSlash: 'bool',
  },
  StripPrefixRegex: {
    regex: 'string[]',
  },
  ReplacePath: {
    path: 'string',
  },
  ReplacePathRegex: {
    regex: 'string',
    replacement: 'string',
  },
  Chain: {
    middlewares: 'string[] ref',
  },
  IPWhiteList: {
    sourceRange: 'string[]',
    ipStrategy: 'IPStrategy allowEmpty',
  },
  IPStrategy: {
    depth: 'int',
    excludedIPs: 'string[]',
    ipv6Subnet: 'int since 3.2',
  },
  IPAllowList: {
    sourceRange: 'string[]',
    ipStrategy: 'IPStrategy allowEmpty',
    rejectStatusCode: 'int allowEmpty',
  },
  Headers: {
    customRequestHeaders: 'map<string>',
    customResponseHeaders: 'map<string>',
    accessControlAllowCredentials: 'bool',
    accessControlAllowHeaders: 'string[]',
    accessControlAllowMethods: 'string[]',
    accessControlAllowOriginList: 'string[]',
    accessControlAllowOriginListRegex: 'string[]',
    accessControlExposeHeaders: 'string[]',
    accessControlMaxAge: 'int',
    addVaryHeader: 'bool',
    allowedHosts: 'string[]',
    hostsProxyHeaders: 'string[]',
    sslProxyHeaders: 'map<string>',
    stsSeconds: 'int',
    stsIncludeSubdomains: 'bool',
    stsPreload: 'bool',
    forceSTSHeader: 'bool',
    frameDeny: 'bool',
    customFrameOptionsValue: 'string',
    contentTypeNosniff: 'bool',
    browserXssFilter: 'bool',
    customBrowserXSSValue: 'string',
    contentSecurityPolicy: 'string',
    contentSecurityPolicyReportOnly: 'string since 3.1',
    publicKey: 'string',
    referrerPolicy: 'string',
    permissionsPolicy: 'string',
    isDevelopment: 'bool',
    featurePolicy: 'string',
    sslRedirect: 'bool',
    sslTemporaryRedirect: 'bool',
    sslHost: 'string',
    sslForceHost: 'bool',
  },
  EncodedCharacters: {
    allowEncodedSlash: 'bool',
    allowEncodedBackSlash: 'bool',
    allowEncodedNullCharacter: 'bool',
    allowEncodedSemicolon: 'bool',
    allowEncodedPercent: 'bool',
    allowEncodedQuestionMark: 'bool',
    allowEncodedHash: 'bool',
  },
  ErrorPage: {
    status: 'string[]',
    statusRewrites: 'map<int> since 3.4',
    service: 'string ref',
    query: 'string',
    errorRequestHeaders: 'string[] since 3.6.15',
  },
  RateLimit: {
    average: 'int',
    period: 'duration',
    burst: 'int',
    sourceCriterion: 'SourceCriterion',
    redis: 'Redis since 3.4',
  },
  SourceCriterion: {
    ipStrategy: 'IPStrategy',
    requestHeaderName: 'string',
    requestHost: 'bool',
  },
  Redis: {
    endpoints: 'string[]',
    tls: 'types.ClientTLS',
    username: 'string',
    password: 'string',
    db: 'int',
    poolSize: 'int',
    minIdleConns: 'int',
    maxActiveConns: 'int',
    readTimeout: 'duration',
    writeTimeout: 'duration',
    dialTimeout: 'duration',
  },
  'types.ClientTLS': {
    ca: 'string',
    cert: 'string',
    key: 'string',
    insecureSkipVerify: 'bool',
  },
  RedirectRegex: {
    regex: 'string',
    replacement: 'string',
    permanent: 'bool',
  },
  RedirectScheme: {
    scheme: 'string',
    port: 'string',
    permanent: 'bool',
  },
  BasicAuth: {
    users: 'string[]',
    usersFile: 'string',
    realm: 'string',
    removeHeader: 'bool',
    headerField: 'string',
  },
  DigestAuth: {
    users: 'string[]',
    usersFile: 'string',
    removeHeader: 'bool',
    realm: 'string',
    headerField: 'string',
  },
  ForwardAuth: {
    address: 'string',
    tls: 'ClientTLS',
    trustForwardHeader: 'bool',
    authResponseHeaders: 'string[]',
    authResponseHeadersRegex: 'string',
    authRequestHeaders: 'string[]',
    maxResponseBodySize: 'int since 3.6.9',
    addAuthCookiesToResponse: 'string[]',
    headerField: 'string since 3.2',
    forwardBody: 'bool since 3.3',
    maxBodySize: 'int since 3.3',
    preserveLocationHeader: 'bool since 3.3',
    preserveRequestMethod: 'bool since 3.4',
    authSigninURL: 'string since 3.7',
  },
  ClientTLS: {
    ca: 'string',
    cert: 'string',
    key: 'string',
    insecureSkipVerify: 'bool',
    caOptional: 'bool',
  },
  InFlightReq: {
    amount: 'int',
    sourceCriterion: 'SourceCriterion',
  },
  Buffering: {
    maxRequestBodyBytes: 'int',
    memRequestBodyBytes: 'int',
    maxResponseBodyBytes: 'int',
    memResponseBodyBytes: 'int',
    retryExpression: 'string',
  },
  CircuitBreaker: {
    expression: 'string',
    checkPeriod: 'duration',
    fallbackDuration: 'duration',
    recoveryDuration: 'duration',
    responseCode: 'int',
  },
  Compress: {
    excludedContentTypes: 'string[]',
    includedContentTypes: 'string[]',
    minResponseBodyBytes: 'int',
    encodings: 'enum(gzip|br|zstd)[] since 3.2',
    defaultEncoding: 'enum(gzip|br|zstd@3.1) since 3.0.2',
  },
  PassTLSClientCert: {
    pem: 'bool',
    info: 'TLSClientCertificateInfo',
  },
  TLSClientCertificateInfo: {
    notAfter: 'bool',
    notBefore: 'bool',
    sans: 'bool',
    serialNumber: 'bool',
    subject: 'TLSClientCertificateSubjectDNInfo',
    issuer: 'TLSClientCertificateIssuerDNInfo',
  },
  TLSClientCertificateSubjectDNInfo: {
    country: 'bool',
    province: 'bool',
    locality: 'bool',
    organization: 'bool',
    organizationalUnit: 'bool',
    commonName: 'bool',
    serialNumber: 'bool',
    domainComponent: 'bool',
  },
  TLSClientCertificateIssuerDNInfo: {
    country: 'bool',
    province: 'bool',
    locality: 'bool',
    organization: 'bool',
    commonName: 'bool',
    serialNumber: 'bool',
    domainComponent: 'bool',
  },
  Retry: {
    attempts: 'int',
    timeout: 'duration since 3.7',
    initialInterval: 'duration',
    maxRequestBodyBytes: 'int since 3.7',
    status: 'string[] since 3.7',
    disableRetryOnNetworkError: 'bool since 3.7',
    retryNonIdempotentMethod: 'bool since 3.7',
  },
  ContentType: {
    autoDetect: 'bool',
  },
  GrpcWeb: {
    allowOrigins: 'string[]',
  },
  Model: {
    middlewares: 'string[] ref',
    tls: 'RouterTLSConfig allowEmpty',
    observability: 'RouterObservabilityConfig since 3.3',
  },
  ServersTransport: {
    serverName: 'string',
    insecureSkipVerify: 'bool',
    rootCAs: 'string[]',
    certificates: 'tls.Certificate[]',
    cipherSuites: 'string[] since 3.7',
    minVersion: 'string since 3.7',
    maxVersion: 'string since 3.7',
    maxIdleConnsPerHost: 'int',
    forwardingTimeouts: 'ForwardingTimeouts',
    disableHTTP2: 'bool',
    peerCertURI: 'string',
    spiffe: 'Spiffe allowEmpty',
  },
  ForwardingTimeouts: {
    dialTimeout: 'duration',
    responseHeaderTimeout: 'duration',
    idleConnTimeout: 'duration',
    readIdleTimeout: 'duration',
    pingTimeout: 'duration',
    readTimeout: { t: 'duration since 3.7', kv: false },
    writeTimeout: { t: 'duration since 3.7', kv: false },
  },
  Spiffe: {
    ids: 'string[]',
    trustDomain: 'string',
  },
  TCPConfiguration: {
    routers: 'map<TCPRouter>',
    services: 'map<TCPService>',
    middlewares: 'map<TCPMiddleware>',
    serversTransports: { t: 'map<TCPServersTransport>', label: false },
  },
  TCPRouter: {
    entryPoints: 'string[]',
    middlewares: 'string[] ref',
    service: 'string ref',
    rule: 'string',
    ruleSyntax: 'enum(v2|v3)',
    priority: 'int',
    tls: 'RouterTCPTLSConfig allowEmpty',
  },
  RouterTCPTLSConfig: {
    passthrough: 'bool',
    options: 'string ref',
    certResolver: 'string',
    domains: 'types.Domain[]',
  },
  TCPService: {
    loadBalancer: 'TCPServersLoadBalancer',
    weighted: { t: 'TCPWeightedRoundRobin', label: false },
  },
  TCPServersLoadBalancer: {
    servers: 'TCPServer[] as server',
    serversTransport: 'string ref',
    proxyProtocol: 'ProxyProtocol allowEmpty',
    terminationDelay: 'int',
    healthCheck: 'TCPServerHealthCheck allowEmpty since 3.6',
  },
  TCPServer: {
    address: { t: 'string', label: false },
    port: { t: 'string', kv: false },
    tls: 'bool',
  },
  ProxyProtocol: {
    version: 'int',
  },
  TCPServerHealthCheck: {
    port: 'int',
    send: 'string',
    expect: 'string',
    interval: 'duration',
    unhealthyInterval: 'duration',
    timeout: 'duration',
  },
  TCPWeightedRoundRobin: {
    services: 'TCPWRRService[]',
    healthCheck: 'HealthCheck allowEmpty since 3.6',
  },
  TCPWRRService: {
    name: 'string ref',
    weight: 'int',
  },
  TCPMiddleware: {
    inFlightConn: 'TCPInFlightConn',
    ipWhiteList: 'TCPIPWhiteList',
    ipAllowList: 'TCPIPAllowList',
  },
  TCPInFlightConn: {
    amount: 'int',
  },
  TCPIPWhiteList: {
    sourceRange: 'string[]',
  },
  TCPIPAllowList: {
    sourceRange: 'string[]',
  },
  TCPServersTransport: {
    dialKeepAlive: 'duration',
    dialTimeout: 'duration',
    proxyProtocol: 'ProxyProtocol allowEmpty since 3.5.2',
    terminationDelay: 'duration',
    tls: 'TLSClientConfig allowEmpty',
  },
  TLSClientConfig: {
    serverName: 'string',
    insecureSkipVerify: 'bool',
    rootCAs: 'string[]',
    certificates: 'tls.Certificate[]',
    peerCertURI: 'string',
    spiffe: 'Spiffe allowEmpty',
  },
  UDPConfiguration: {
    routers: 'map<UDPRouter>',
    services: 'map<UDPService>',
  },
  UDPRouter: {
    entryPoints: 'string[]',
    service: 'string ref',
  },
  UDPService: {
    loadBalancer: 'UDPServersLoadBalancer',
    weighted: { t: 'UDPWeightedRoundRobin', label: false },
  },
  UDPServersLoadBalancer: {
    servers: 'UDPServer[] as server',
  },
  UDPServer: {
    address: { t: 'string', label: false },
    port: { t: 'string', kv: false },
  },
  UDPWeightedRoundRobin: {
    services: 'UDPWRRService[]',
  },
  UDPWRRService: {
    name: 'string ref',
    weight: 'int',
  },
  TLSConfiguration: {
    certificates: { t: 'tls.CertAndStores[]', label: false },
    options: { t: 'map<tls.Options>', label: false },
    stores: 'map<tls.Store>',
  },
  'tls.CertAndStores': {
    // From the embedded tls.Certificate, flattened as Traefik's decoders do.
    certFile: 'string',
    keyFile: 'string',
    stores: 'string[]',
  },
  'tls.Options': {
    minVersion: 'string',
    maxVersion: 'string',
    cipherSuites: 'string[]',
    curvePreferences: 'string[]',
    clientAuth: 'tls.ClientAuth',
    sniStrict: 'bool',
    alpnProtocols: 'string[]',
    disableSessionTickets: 'bool since 3.4',
    preferServerCipherSuites: 'bool',
  },
  'tls.ClientAuth': {
    caFiles: 'string[]',
    clientAuthType: 'string',
  },
  'tls.Store': {
    defaultCertificate: { t: 'tls.Certificate', label: false },
    defaultGeneratedCert: 'tls.GeneratedCert',
  },
  'tls.Certificate': {
    certFile: 'string',
    keyFile: 'string',
  },
  'tls.GeneratedCert': {
    resolver: 'string',
    domain: 'types.Domain',
  },
} as const satisfies Record<string, Record<string, FieldSpec>>;

/** One field of the schema: a type expression, or one with flags. */
export type FieldSpec = string | { readonly t: string; readonly label?: boolean; readonly kv?: boolean };

export type StructName = keyof typeof traefikDynamicSchema;
