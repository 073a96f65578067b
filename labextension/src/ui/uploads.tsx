/** The Uploads tab: drop or pick files, follow each upload, and use or delete accepted ones. */
import React from 'react';

import type { Transfer, UploadsModel } from '../transfers';
import { describe, humanBytes, stripped } from '../uploads';
import type { UploadRecord } from '../wire';
import { ErrorLine, useSignal } from './common';

interface Props {
  uploads: UploadsModel;
  /** Insert the cell that loads `record`; null when no notebook is open. */
  onLoad: ((record: UploadRecord) => void) | null;
}

export function UploadsTab({ uploads, onLoad }: Props): JSX.Element {
  useSignal(uploads.changed);
  const picker = React.useRef<HTMLInputElement>(null);
  React.useEffect(() => {
    // refresh() keeps a failure as the list's error and never rejects.
    void uploads.refresh();
  }, [uploads]);
  return (
    <div className="jp-DSAgent-uploads">
      <div className="jp-DSAgent-dropzone">
        <span>Drop files on this panel, or</span>
        <button type="button" className="jp-DSAgent-button jp-DSAgent-pick" onClick={() => picker.current?.click()}>
          Choose files…
        </button>
        <input
          ref={picker}
          className="jp-DSAgent-fileInput"
          type="file"
          multiple
          hidden
          onChange={event => {
            const files = Array.from(event.target.files ?? []);
            event.target.value = '';
            // add() keeps each file's failure on its transfer and never rejects.
            void uploads.add(files);
          }}
        />
      </div>
      {uploads.transfers.length > 0 && (
        <ul className="jp-DSAgent-transfers" aria-label="This session's uploads">
          {uploads.transfers.map(transfer => (
            <TransferView key={transfer.key} transfer={transfer} onDismiss={() => uploads.dismiss(transfer.key)} />
          ))}
        </ul>
      )}
      <div className="jp-DSAgent-sectionTitle">
        Accepted uploads
        <button type="button" className="jp-DSAgent-link" onClick={() => void uploads.refresh()}>
          refresh
        </button>
      </div>
      {uploads.listError && <ErrorLine error={uploads.listError} />}
      {uploads.records.length === 0 ? (
        <p className="jp-DSAgent-empty">Nothing uploaded yet.</p>
      ) : (
        <ul className="jp-DSAgent-records">
          {uploads.records.map(record => (
            <RecordView key={record.id} record={record} uploads={uploads} onLoad={onLoad} />
          ))}
        </ul>
      )}
    </div>
  );
}

function TransferView({ transfer, onDismiss }: { transfer: Transfer; onDismiss: () => void }): JSX.Element {
  const finished = transfer.state === 'done' || transfer.state === 'failed';
  const label =
    transfer.state === 'sending'
      ? `sending ${humanBytes(transfer.sent)} of ${humanBytes(transfer.size)}`
      : transfer.state === 'validating'
        ? 'checking the file…'
        : transfer.state === 'done'
          ? 'accepted'
          : 'refused';
  return (
    <li className="jp-DSAgent-transfer" data-state={transfer.state}>
      <div className="jp-DSAgent-transferHead">
        <span className="jp-DSAgent-fileName">{transfer.name}</span>
        <span className="jp-DSAgent-transferState">{label}</span>
        {finished && (
          <button type="button" className="jp-DSAgent-link" aria-label={`Dismiss ${transfer.name}`} onClick={onDismiss}>
            ×
          </button>
        )}
      </div>
      {!finished && (
        <progress
          className="jp-DSAgent-progress"
          max={Math.max(transfer.size, 1)}
          value={transfer.state === 'validating' ? undefined : transfer.sent}
          aria-label={`Upload progress of ${transfer.name}`}
        />
      )}
      {transfer.record && <RecordFacts record={transfer.record} />}
      {transfer.error && <ErrorLine error={transfer.error} />}
    </li>
  );
}

function RecordFacts({ record }: { record: UploadRecord }): JSX.Element {
  const removed = stripped(record);
  return (
    <div className="jp-DSAgent-record">
      <div className="jp-DSAgent-recordFacts">{describe(record)}</div>
      {removed.length > 0 && <div className="jp-DSAgent-removed">Removed: {removed.join(', ')}</div>}
      {(record.warnings ?? []).map(warning => (
        <div key={warning.code} className="jp-DSAgent-warning" data-code={warning.code}>
          ⚠ {warning.message}
        </div>
      ))}
    </div>
  );
}

function RecordView({ record, uploads, onLoad }: { record: UploadRecord } & Props): JSX.Element {
  return (
    <li className="jp-DSAgent-recordItem" data-upload-id={record.id}>
      <div className="jp-DSAgent-transferHead">
        <span className="jp-DSAgent-fileName" title={`id ${record.id}`}>
          {record.name}
        </span>
      </div>
      <RecordFacts record={record} />
      <div className="jp-DSAgent-actions">
        <button
          type="button"
          className="jp-DSAgent-button jp-DSAgent-load"
          disabled={onLoad === null || record.kind === 'zip' || record.kind === 'image'}
          title="Insert a cell that loads this file into a DataFrame"
          onClick={() => onLoad?.(record)}
        >
          Load into notebook
        </button>
        <button
          type="button"
          className="jp-DSAgent-button jp-DSAgent-delete"
          title="Delete the file and its record from the server"
          onClick={() => void uploads.remove(record.id)}
        >
          Delete
        </button>
      </div>
      {(record.children ?? []).length > 0 && (
        <ul className="jp-DSAgent-children">
          {(record.children ?? []).map(child => (
            <RecordView key={child.id} record={child} uploads={uploads} onLoad={onLoad} />
          ))}
        </ul>
      )}
    </li>
  );
}
