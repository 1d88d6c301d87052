// createToolServices(dataDir): everything the personal tools need, over the one database of the data
// directory (<dataDir>/westfall.db): migrations applied, reminders scheduled, the tool registry built.
// close() stops the scheduler, locks the vault and closes the database.
import path from 'node:path';
import { DocumentService, documentTools } from '../documents/index.js';
import { backupDatabase, backupFileName, ConversationStore, openDatabase, type BackupResult, type DB } from '../storage/index.js';
import { FinanceService, financeTools } from './finance/index.js';
import { Confirmations } from './confirmations.js';
import { MusicService, musicTools } from './music/index.js';
import { ToolRegistry } from './registry.js';
import { TimeService, timeTools } from './time/index.js';
import { VaultService, vaultTools, type VaultOptions } from './vault/index.js';

export const DATABASE_FILE = 'westfall.db';

export interface ToolServicesOptions {
  /** Database file (default <dataDir>/westfall.db). */
  databasePath?: string;
  vault?: VaultOptions;
  /** Currency for budgets and projects created without one (default USD). */
  defaultCurrency?: string;
  /** How long a tool call waits for the user's approval before it is declined (default 5 minutes). */
  confirmationTimeoutMs?: number;
  /** Schedule reminders now (default true). */
  startReminders?: boolean;
  now?: () => number;
}

export interface ToolServices {
  dataDir: string;
  databasePath: string;
  db: DB;
  conversations: ConversationStore;
  finance: FinanceService;
  time: TimeService;
  vault: VaultService;
  music: MusicService;
  /** Document collections and their index (src/documents); the server attaches the embedder. */
  documents: DocumentService;
  /** Every tool function the model can call. */
  registry: ToolRegistry;
  /** Tool calls waiting for the user's approval (the agent route asks, the app answers). */
  confirmations: Confirmations;
  /** Copies the database (default: <dataDir>/backups/westfall-YYYYMMDD-HHMMSS.db). */
  backup(dest?: string): Promise<BackupResult>;
  close(): void;
}

export function createToolServices(dataDir: string, options: ToolServicesOptions = {}): ToolServices {
  const databasePath = options.databasePath ?? path.join(dataDir, DATABASE_FILE);
  const db = openDatabase(databasePath);
  const now = options.now ?? Date.now;
  const currency = options.defaultCurrency ?? 'USD';
  const conversations = new ConversationStore(db, { now });
  const finance = new FinanceService(db, { now, defaultCurrency: currency });
  const time = new TimeService(db, { now, defaultCurrency: currency });
  const vault = new VaultService(db, { now, ...options.vault });
  const music = new MusicService(db, { now });
  const documents = new DocumentService(db, { now });
  const registry = new ToolRegistry([...financeTools(finance), ...timeTools(time), ...vaultTools(vault), ...musicTools(music), ...documentTools(documents)]);
  const confirmations = new Confirmations(options.confirmationTimeoutMs);
  if (options.startReminders !== false) time.reminders.start();
  let closed = false;
  return {
    dataDir,
    databasePath,
    db,
    conversations,
    finance,
    time,
    vault,
    music,
    documents,
    registry,
    confirmations,
    backup: (dest) => backupDatabase(db, dest ?? path.join(dataDir, 'backups', backupFileName())),
    close: () => {
      if (closed) return;
      closed = true;
      time.reminders.stop();
      confirmations.clear();
      // Running index jobs stay 'running' in the database and resume at the next start.
      void documents.close();
      vault.close();
      db.close();
    },
  };
}
