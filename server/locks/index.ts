export { lockComponent, withComponentLock, isComponentLocked, componentLockHolder, type ComponentRef, type LockOptions, type ReleaseLock } from "./component-lock";
export { holdStoreShared, holdStoreExclusive, lockRetention, storeInUse, STORE_SHARED_WAIT_MS } from "./store-hold";
export { describeHolder, type LockHolder } from "./holder";
