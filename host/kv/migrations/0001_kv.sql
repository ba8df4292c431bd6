-- The plugins' key-value store (host/kv.Postgres): entries per tenant, and
-- each tenant's usage (keys, values and an overhead per entry), kept in
-- the transaction of every write like the bbolt store keeps it. Keys are
-- bytes: a plugin may use any.

CREATE TABLE kv_entries (
    tenant text COLLATE "C" NOT NULL,
    key    bytea NOT NULL,
    value  bytea NOT NULL,
    PRIMARY KEY (tenant, key)
);

CREATE TABLE kv_usage (
    tenant text COLLATE "C" PRIMARY KEY,
    bytes  bigint NOT NULL
);

-- kv_set stores value under key unless the tenant's usage would pass
-- quota (0 = none). The usage row is locked first, so writes of one
-- tenant are serialised across nodes and the quota is exact.
CREATE FUNCTION kv_set(p_tenant text, p_key bytea, p_value bytea, p_quota bigint, p_overhead integer)
RETURNS TABLE (ok boolean, used bigint, delta bigint) LANGUAGE plpgsql AS $$
DECLARE
    old_len integer;
BEGIN
    INSERT INTO kv_usage (tenant, bytes) VALUES (p_tenant, 0) ON CONFLICT (tenant) DO NOTHING;
    SELECT u.bytes INTO used FROM kv_usage u WHERE u.tenant = p_tenant FOR UPDATE;
    SELECT length(e.value) INTO old_len FROM kv_entries e WHERE e.tenant = p_tenant AND e.key = p_key;
    delta := length(p_key) + length(p_value) + p_overhead;
    IF old_len IS NOT NULL THEN
        delta := delta - (length(p_key) + old_len + p_overhead);
    END IF;
    IF delta > 0 AND p_quota > 0 AND used + delta > p_quota THEN
        ok := false;
        RETURN NEXT;
        RETURN;
    END IF;
    INSERT INTO kv_entries (tenant, key, value) VALUES (p_tenant, p_key, p_value)
        ON CONFLICT (tenant, key) DO UPDATE SET value = excluded.value;
    UPDATE kv_usage SET bytes = greatest(bytes + delta, 0) WHERE tenant = p_tenant;
    ok := true;
    RETURN NEXT;
END;
$$;

-- kv_delete removes key and gives its bytes back; it returns whether the
-- key existed.
CREATE FUNCTION kv_delete(p_tenant text, p_key bytea, p_overhead integer)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    old_len integer;
BEGIN
    PERFORM 1 FROM kv_usage u WHERE u.tenant = p_tenant FOR UPDATE;
    DELETE FROM kv_entries e WHERE e.tenant = p_tenant AND e.key = p_key RETURNING length(e.value) INTO old_len;
    IF old_len IS NULL THEN
        RETURN false;
    END IF;
    UPDATE kv_usage SET bytes = greatest(bytes - (length(p_key) + old_len + p_overhead), 0) WHERE tenant = p_tenant;
    RETURN true;
END;
$$;
