// The memory adapter against the three port contracts.
import { memoryKeyStore, memorySpendStore, memoryUsageStore } from '../../src/adapters/memory/index.js';
import { keyStoreContract } from '../contracts/keys.contract.js';
import { spendStoreContract } from '../contracts/spend.contract.js';
import { usageStoreContract } from '../contracts/usage.contract.js';
import { usageAnalyticsContract } from '../contracts/usage-analytics.contract.js';

const nothing = async () => {};

keyStoreContract('memory key store', async () => ({ store: memoryKeyStore(), close: nothing }));
spendStoreContract('memory spend store', async () => ({ store: memorySpendStore(), close: nothing }));
usageStoreContract('memory usage store', async () => ({ store: memoryUsageStore(), close: nothing }));
usageAnalyticsContract('memory usage store', async () => ({ store: memoryUsageStore(), close: nothing }));
