export declare const PARENT_PID_ENV: string;
export declare function diesWithParent(file: string, args: readonly string[]): { file: string; args: string[] };
export declare function nodeChild(root: string, args: readonly string[], env: NodeJS.ProcessEnv): { file: string; args: string[]; env: NodeJS.ProcessEnv };
