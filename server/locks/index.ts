export { lockComponent, withComponentLock, isComponentLocked, componentLockHolder, type ComponentRef, type LockOptions, type ReleaseLock } from "./component-lock";
export { holdStoreShared, holdStoreExclusive, lockRetention, storeInUse, STORE_SHARED_WAIT_MS } from "./store-hold";
export { describeHolder, type LockHolder } from "./holder";
export { componentKey, type LockKey, type LockSession, type LockSpace } from "./lock-space";
export { osLockSpace, OsLockSpace } from "./os-lock-space";
