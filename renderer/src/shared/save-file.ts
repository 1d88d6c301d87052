// Saves text as a download with the given name (the browser's or the desktop app's download handling).
export function saveFile(file: { name: string; type: string; text: string }): void {
  const url = URL.createObjectURL(new Blob([file.text], { type: file.type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = file.name;
  a.click();
  // Revoked later: the download reads the object URL after the click returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
