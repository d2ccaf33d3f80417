// The emergency stop on every page: a red banner while it is engaged (who, when, why, and Lift
// for users allowed to change it), and the header's "Emergency stop" button for those users.
// Both read one query, polled, so a stop pulled from the CLI shows up here within seconds.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRef, useState } from "react";
import { call, client, type Schemas } from "../lib/api";
import { when } from "../lib/format";
import { ConfirmButton } from "./ConfirmButton";
import { ErrorNotice } from "./ErrorNotice";

export type EmergencyStopState = Schemas["EmergencyStopState"];
const KEY = ["emergency-stop"];

function useEmergencyStop() {
  return useQuery({
    queryKey: KEY,
    queryFn: () => call(client.GET("/api/v1/emergency-stop")),
    refetchInterval: 5000,
  });
}

function useChange() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (reason: string | null) =>
      reason === null
        ? call(client.DELETE("/api/v1/emergency-stop"))
        : call(client.POST("/api/v1/emergency-stop", { body: { reason } })),
    onSuccess: (state) => queries.setQueryData(KEY, state),
  });
}

export function EmergencyStopBanner() {
  const { data } = useEmergencyStop();
  const change = useChange();
  if (!data?.engaged) return null;
  const by = data.engagedBy ? ` by ${data.engagedBy}` : "";
  const since = data.engagedAt ? ` since ${when(data.engagedAt)}` : "";
  return (
    <div role="alert" className="emergency-banner">
      <div>
        <strong>Emergency stop engaged</strong>
        {by}
        {since}
        {data.reason ? `: ${data.reason}` : ""}. Every fault is withdrawn; new chaos objects, runs
        and schedule firings are refused until it is lifted.
      </div>
      {data.mayChange ? (
        <ConfirmButton
          label="Lift"
          question="Lift the emergency stop? New chaos objects, runs and schedule firings may start again (objects it ended stay ended)."
          onConfirm={() => change.mutate(null)}
          disabled={change.isPending}
        />
      ) : null}
      <ErrorNotice error={change.error} />
    </div>
  );
}

export function EmergencyStopButton() {
  const { data } = useEmergencyStop();
  const change = useChange();
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState("");
  if (!data?.available || !data.mayChange || data.engaged) return null;
  const close = () => {
    dialog.current?.close?.();
    setOpen(false);
  };
  return (
    <>
      <button
        type="button"
        className="danger"
        onClick={() => {
          dialog.current?.showModal?.();
          setOpen(true);
        }}
      >
        Emergency stop
      </button>
      <dialog
        ref={dialog}
        aria-label="Emergency stop"
        open={open || undefined}
        onClose={close}
        className="emergency-dialog"
      >
        <p>
          Withdraw every fault in the cluster now, and refuse new chaos objects, runs and schedule
          firings until the stop is lifted?
        </p>
        <label>
          Reason (shown to everyone)
          <input value={reason} maxLength={512} onChange={(e) => setReason(e.target.value)} />
        </label>
        <div className="row">
          <button type="button" onClick={close}>
            Cancel
          </button>
          <button
            type="button"
            className="danger"
            onClick={() => {
              close();
              change.mutate(reason.trim());
            }}
          >
            Stop every fault
          </button>
        </div>
      </dialog>
      <ErrorNotice error={change.error} />
    </>
  );
}
