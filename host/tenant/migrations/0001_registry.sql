-- The tenant registry (host/tenant.Postgres). Each object is one row: the
-- columns the registry looks objects up by, and the whole record as JSON
-- (doc), exactly as the bbolt registry stores it, so a field added to a
-- record needs no migration. Ids sort bytewise (COLLATE "C"), as bbolt's
-- keys do.

CREATE TABLE registry_meta (
    key   text COLLATE "C" PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO registry_meta (key, value) VALUES ('generation', '0');

CREATE TABLE tenants (
    id  text COLLATE "C" PRIMARY KEY,
    doc jsonb NOT NULL
);

-- API keys: tenant is NULL for an operator (admin) key.
CREATE TABLE api_keys (
    id     text COLLATE "C" PRIMARY KEY,
    tenant text COLLATE "C" REFERENCES tenants (id) ON DELETE CASCADE,
    doc    jsonb NOT NULL
);
CREATE INDEX api_keys_tenant ON api_keys (tenant);

CREATE TABLE applications (
    tenant text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id     text COLLATE "C" NOT NULL,
    doc    jsonb NOT NULL,
    PRIMARY KEY (tenant, id)
);

-- A number belongs to one tenant server-wide.
CREATE TABLE numbers (
    number text COLLATE "C" PRIMARY KEY,
    tenant text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    doc    jsonb NOT NULL
);
CREATE INDEX numbers_tenant ON numbers (tenant);

-- A trigger value has one rule server-wide.
CREATE TABLE rules (
    tenant        text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    id            text COLLATE "C" NOT NULL,
    trigger_type  text COLLATE "C" NOT NULL,
    trigger_value text COLLATE "C" NOT NULL,
    doc           jsonb NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (trigger_type, trigger_value)
);

CREATE TABLE plugins (
    tenant text COLLATE "C" NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sha256 text COLLATE "C" NOT NULL,
    doc    jsonb NOT NULL,
    PRIMARY KEY (tenant, sha256)
);
