export interface NoteEvent {
  text: string;
  author?: string;
}
