import { describe, expect, it } from "vitest";
import { classifyMysqlError, classifyRedisError, redisTarget } from "./store-readiness.js";

const mysqlAt = { address: "db.example:3306", user: "etserver", database: "dora_server" };
const mysqlError = (code: string, message = code) => Object.assign(new Error(message), { code });

describe("telling a misconfigured store from one that is down", () => {
  it.each([
    ["ER_ACCESS_DENIED_ERROR", /^mysql at db\.example:3306 refused user etserver \(access denied\): fix the user and password/],
    ["ER_ACCESS_DENIED_NO_PASSWORD_ERROR", /refused user etserver/],
    ["ER_DBACCESS_DENIED_ERROR", /refused user etserver/],
    ["ER_BAD_DB_ERROR", /^mysql at db\.example:3306 has no database dora_server: create it with 'etserver migrate'/],
    ["ER_NO_SUCH_TABLE", /^mysql at db\.example:3306: database dora_server has no table quota: create the tables with 'etserver migrate'$/],
  ])("MySQL %s is a configuration to fix", (code, message) => {
    const probe = classifyMysqlError(mysqlError(code), mysqlAt, "quota");
    expect(probe.state).toBe("misconfigured");
    if (probe.state === "misconfigured") expect(probe.message).toMatch(message);
  });

  it.each(["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "PROTOCOL_CONNECTION_LOST", "ER_CON_COUNT_ERROR"])("MySQL %s is a store that is down", (code) => {
    expect(classifyMysqlError(mysqlError(code, `boom ${code}`), mysqlAt, "account")).toEqual({ state: "down", reason: `boom ${code}` });
  });

  it.each([
    ["redis: WRONGPASS invalid username-password pair or user is disabled.", /^redis at 10\.0\.0\.5:6380 refused the connection \(authentication\): fix the password in redis\.url/],
    ["NOAUTH HELLO must be called with the client already authenticated", /authentication/],
    ["ERR DB index is out of range", /^redis at 10\.0\.0\.5:6380 has no database 3: fix the database number in redis\.url$/],
  ])("Redis %j is a configuration to fix", (message, expected) => {
    const probe = classifyRedisError(message, redisTarget("redis://:secret@10.0.0.5:6380/3"));
    expect(probe.state).toBe("misconfigured");
    if (probe.state === "misconfigured") {
      expect(probe.message).toMatch(expected);
      expect(probe.message).not.toContain("secret");
    }
  });

  it("Redis refusing the connection is a store that is down", () => {
    expect(classifyRedisError("redis: connect ECONNREFUSED 127.0.0.1:6379", redisTarget("redis://127.0.0.1:6379/0")).state).toBe("down");
    expect(redisTarget("redis://localhost")).toEqual({ address: "localhost:6379", db: 0 });
  });
});
