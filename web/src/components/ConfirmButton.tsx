// A destructive or disruptive action behind a confirmation dialog (native <dialog>: focus is
// trapped and Escape cancels, for keyboard users).
import { useRef, useState } from "react";

interface Props {
  label: string;
  question: string;
  onConfirm: () => void;
  danger?: boolean;
  disabled?: boolean;
}

export function ConfirmButton({ label, question, onConfirm, danger, disabled }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const close = () => {
    dialog.current?.close?.();
    setOpen(false);
  };
  return (
    <>
      <button
        type="button"
        className={danger ? "danger" : undefined}
        disabled={disabled}
        onClick={() => {
          dialog.current?.showModal?.();
          setOpen(true);
        }}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-label={question} open={open || undefined} onClose={close}>
        <p>{question}</p>
        <div className="row">
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button
            type="button"
            className={danger ? "danger" : "primary"}
            onClick={() => {
              close();
              onConfirm();
            }}
          >
            Yes, {label.toLowerCase()}
          </button>
        </div>
      </dialog>
    </>
  );
}
